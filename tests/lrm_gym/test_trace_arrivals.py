"""Arrivals and prompt lengths from a measured request trace (``arrivals.kind: trace``, ``prompt_tokens: {trace}``;
docs/model.md sections 5 and 6), on the shipped Azure LLM inference traces 2023."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import lrm_gym
from lrm_gym import theory
from lrm_gym.core.params import build_params
from lrm_gym.core.tables import SlotColumn
from lrm_gym.scenarios import load_scenario
from lrm_gym.scenarios.request_traces import ARRIVAL_COLUMN, PROMPT_COLUMN, arrival_counts, load_request_column

CONV, CODE = "azure-llm-2023-conv-requests", "azure-llm-2023-code-requests"
# Unlimited model capacity and a deep queue: every arriving task asks for a decision in its arrival slot, so a
# step's `tasks_arrived` belong to the slot it ends in (slots in between had no arrivals).
AMPLE = {"queue": {"capacity": 2000}}
SE_BOUND = 4.0  # statistical tests: |estimate - truth| <= 4 standard errors (fixed seeds: deterministic)


def _ample(scenario: str, **extra: Any) -> dict[str, Any]:
    models = [dict(m, capacity_tokens_per_slot=None) for m in load_scenario(scenario).model_dump()["models"]]
    return lrm_gym.merge_overrides({**AMPLE, "models": models}, extra)


def _cheapest_valid(info: dict[str, Any], params: Any) -> int:
    """Dispatch on the first valid option: never defers, so each task is decided once, in its arrival slot."""
    return 1 + int(np.flatnonzero(info["action_mask"][1:])[0])


def _arrivals_per_slot(scenario: str, overrides: dict[str, Any], seed: int) -> tuple[np.ndarray, list[dict]]:
    env = gym.make(lrm_gym.env_id(scenario), overrides=overrides)
    params = env.unwrapped.params  # type: ignore[attr-defined]
    arrived = np.zeros(params.horizon_slots)
    _, info = env.reset(seed=seed)
    arrived[info["slot"]] += info["tasks_arrived"]
    infos = [info]
    while True:
        before = info["slot"]
        _, _, _, truncated, info = env.step(_cheapest_valid(info, params))
        infos.append(info)
        if truncated:
            assert info["tasks_arrived"] == 0
            break
        if info["slot"] != before:
            arrived[info["slot"]] += info["tasks_arrived"]
    assert arrived.sum() == info["totals"]["tasks_arrived"]
    env.close()
    return arrived, infos


@pytest.mark.parametrize(("scenario", "trace"), [("azure-code-minute", CODE), ("azure-conversation-minute", CONV)])
def test_at_full_rate_the_trace_is_replayed_exactly_from_a_random_minute(scenario: str, trace: str) -> None:
    counts = arrival_counts(load_request_column(trace, ARRIVAL_COLUMN, "t"), 60.0)
    horizon = load_scenario(scenario).horizon_slots
    assert horizon == counts.size  # one episode is the trace's hour once
    offsets = set()
    for seed in range(8):
        arrived, _ = _arrivals_per_slot(scenario, _ample(scenario, arrivals={"rate_per_slot": counts.mean()}), seed)
        rotations = [s for s in range(counts.size) if np.array_equal(arrived, np.roll(counts, -s)[:horizon])]
        assert len(rotations) == 1, seed
        offsets.update(rotations)
    assert len(offsets) >= 6  # 8 uniform draws among 57-58 offsets: 7.5 distinct expected


@pytest.mark.parametrize(("scenario", "trace"), [("azure-code-minute", CODE), ("azure-conversation-minute", CONV)])
def test_thinned_arrivals_have_the_configured_mean(scenario: str, trace: str) -> None:
    """An episode covers each trace minute once, so its arrivals are Binomial(N, p), N the requests of the whole
    minutes: the mean per slot over episodes is within 4 standard errors of rate_per_slot. The per-slot variance
    ``mean_t (A_t - rate)^2`` of an episode is unbiased for theory.arrival_variance; its mean over the (iid)
    episodes is within 4 of their standard errors."""
    counts = arrival_counts(load_request_column(trace, ARRIVAL_COLUMN, "t"), 60.0)
    params = build_params(load_scenario(scenario))
    p, n, total = params.arrival_keep, counts.size, counts.sum()
    assert p == pytest.approx(params.arrival_rate / counts.mean())
    episodes = 16
    arrived = np.array([_arrivals_per_slot(scenario, _ample(scenario), seed)[0] for seed in range(episodes)])
    standard_error = np.sqrt(total * p * (1 - p)) / n / np.sqrt(episodes)
    assert abs(arrived.mean() - params.arrival_rate) <= SE_BOUND * standard_error
    spread = ((arrived - params.arrival_rate) ** 2).mean(axis=1)
    variance_error = spread.std(ddof=1) / np.sqrt(episodes)
    assert abs(spread.mean() - theory.arrival_variance(params)) <= SE_BOUND * variance_error
    # the kernel, the policies and the MPC read the same mean rate per slot
    assert np.all(params.kernel.slot_tab[:, SlotColumn.ARRIVAL_RATE] == params.arrival_rate)
    assert params.peak_arrival_rate == pytest.approx(p * counts.max())
    variance = theory.arrival_variance(params)
    assert variance == pytest.approx(p * (1 - p) * counts.mean() + p**2 * counts.var())


def test_arrival_counts_bin_whole_slots_only() -> None:
    arrival_s = np.array([0.0, 0.5, 1.2, 2.9, 3.0, 3.5])
    assert arrival_counts(arrival_s, 1.0).tolist() == [2, 1, 1]  # [3, 3.5] is a partial slot: left out
    assert arrival_counts(arrival_s, 2.0).tolist() == [3]
    with pytest.raises(ValueError, match="less than one slot"):
        arrival_counts(arrival_s, 4.0)


@pytest.mark.parametrize(("scenario", "trace"), [("azure-conversation-minute", CONV), ("azure-code-minute", CODE)])
def test_prompt_lengths_follow_the_traces_distribution_and_feed_energy(scenario: str, trace: str) -> None:
    """Each task's prompt (the observation's prompt kilotokens) is a measured context length; at the trace's
    deciles the sample's empirical CDF is within 4 standard errors sqrt(F (1 - F) / N) of the trace's."""
    measured = load_request_column(trace, PROMPT_COLUMN, "t")
    env = gym.make(lrm_gym.env_id(scenario), overrides=_ample(scenario))
    params = env.unwrapped.params  # type: ignore[attr-defined]
    layout = lrm_gym.core.observation.observation_layout(params)
    prompts, energy_checked = [], 0
    for seed in range(3):
        obs, info = env.reset(seed=seed)
        truncated = False
        while not truncated:
            prompt = round(float(obs["task"][layout.task.prompt_kilotokens]) * 1000.0)
            prompts.append(prompt)
            action = _cheapest_valid(info, params)
            obs, _, _, truncated, info = env.step(action)
            model = params.option_model[action - 1]
            steps = (info["task_tokens"] - prompt) / params.model_tokens_per_step[model]
            assert steps == round(steps) and 1 <= steps <= params.option_cap[action - 1]
            assert info["task_energy_j"] == pytest.approx(info["task_tokens"] * params.model_joules_per_token[model])
            energy_checked += 1
    env.close()
    sample = np.array(prompts)
    assert np.isin(sample, measured).all()
    n = sample.size
    assert n > 5000 and energy_checked == n
    for x in np.quantile(measured, [0.1, 0.25, 0.5, 0.75, 0.9]):
        truth = np.mean(measured <= x)
        assert abs(np.mean(sample <= x) - truth) <= SE_BOUND * np.sqrt(truth * (1 - truth) / n), x
    # the option tables are the expectations over the measured prompts
    assert params.class_prompt_tokens == pytest.approx(np.full(3, measured.mean()))
    assert np.all(params.class_prompt_tokens_max == measured.max())


def test_trace_prompts_work_with_any_arrival_kind_and_only_their_class_draws() -> None:
    """Opting one class of `critical` in: that class's prompts vary, the others keep their fixed prompt."""
    classes = load_scenario("critical").model_dump()["tasks"]["classes"]
    classes[2]["prompt_tokens"] = {"trace": CODE}
    env = gym.make(lrm_gym.env_id("critical"), overrides={"horizon_slots": 20, "tasks": {"classes": classes}})
    layout = lrm_gym.core.observation.observation_layout(env.unwrapped.params)  # type: ignore[attr-defined]
    seen: dict[int, set[int]] = {0: set(), 1: set(), 2: set()}
    obs, info = env.reset(seed=3)
    truncated = False
    while not truncated:
        cls = int(np.argmax(obs["task"][layout.task.one_hot_class]))
        seen[cls].add(round(float(obs["task"][layout.task.prompt_kilotokens]) * 1000.0))
        obs, _, _, truncated, info = env.step(_cheapest_valid(info, None))
    assert seen[0] == {200} and seen[1] == {400}
    assert len(seen[2]) > 20


def _with(scenario: str, overrides: dict[str, Any]) -> Any:
    return build_params(load_scenario(scenario, overrides))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"arrivals": {"trace": None}}, r"arrivals: kind 'trace' needs 'trace'"),
        ({"arrivals": {"kind": "poisson", "trace": CONV}}, r"'trace' is only used by kind 'trace'"),
        ({"arrivals": {"profile": [1.0, 2.0]}}, r"remove 'profile'"),
        ({"arrivals": {"rate_per_slot": 400.0}}, r"arrivals\.rate_per_slot: 400 exceeds the trace's 333\.259"),
        ({"arrivals": {"trace": "no-such-trace"}}, r"arrivals\.trace: 'no-such-trace' is neither a shipped trace"),
        ({"arrivals": {"trace": "wind"}}, r"arrivals\.trace: shipped trace 'wind' has no 'arrival_s' column"),
        ({"slot_seconds": 7200}, r"arrivals\.trace: the trace spans 3501\.72 s, less than one slot"),
        ({"arrivals": {"trace": "x" * 5000}}, r"arrivals\.trace: 5000 characters exceed the limit 4096"),
    ],
)
def test_bad_trace_arrivals_are_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _with("azure-conversation-minute", overrides)


def test_bad_request_trace_files_are_named(tmp_path: Path) -> None:
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    backwards = write("backwards.csv", "# comment\narrival_s,context_tokens\n0.0,10\n2.0,10\n1.0,10\n")
    with pytest.raises(ValueError, match=r"arrivals\.trace: .*backwards\.csv' line 5: 'arrival_s' decreases"):
        _with("azure-conversation-minute", {"arrivals": {"trace": backwards, "rate_per_slot": 0.01}})
    fractional = write("fractional.csv", "arrival_s,context_tokens\n0.0,10.5\n")
    classes = load_scenario("critical").model_dump()["tasks"]["classes"]
    classes[1]["prompt_tokens"] = {"trace": fractional}
    with pytest.raises(ValueError, match=r"tasks\.classes\.1\.prompt_tokens\.trace: .* line 2: 'context_tokens' must"):
        _with("critical", {"tasks": {"classes": classes}})
    classes[1]["prompt_tokens"] = {"trace": CONV, "scale": 2}
    with pytest.raises(ValueError, match=r"tasks\.classes\.1\.prompt_tokens.*scale"):
        load_scenario("critical", {"tasks": {"classes": classes}})


def test_a_user_request_trace_replays_exactly(tmp_path: Path) -> None:
    """A CSV path works as a shipped name does: two requests in second 0, none in 1, three in 2, one in 3."""
    path = tmp_path / "mine.csv"
    path.write_text("arrival_s\n0.1\n0.2\n2.0\n2.5\n2.9\n3.1\n4.0\n", encoding="utf-8")
    overrides = _ample(
        "azure-code-minute",
        slot_seconds=1.0,
        horizon_slots=4,
        arrivals={"trace": str(path), "rate_per_slot": 1.5},
        tasks={"classes": [{"name": "only", "weight": 1.0, "difficulty": 1}]},
    )
    arrived, _ = _arrivals_per_slot("azure-code-minute", overrides, seed=0)
    counts = np.array([2.0, 0.0, 3.0, 1.0])
    assert any(np.array_equal(arrived, np.roll(counts, -s)) for s in range(4))
