"""``lrm-gym dataset`` writes a local Minari dataset that round-trips through ``minari.load_dataset``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lrm_gym  # noqa: F401 (registers the ids)

minari = pytest.importorskip("minari")
NAME = "lrm_gym/critical-accuracy-target-v0"
OVERRIDES = '{"horizon_slots": 6}'


@pytest.fixture
def datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    return tmp_path


def _record(*extra: str) -> int:
    from agents.cli import main

    argv = ["dataset", "--policy", "accuracy-target", "--env", "critical", "--episodes", "2", "--seed", "5"]
    return main([*argv, "--name", NAME, "--overrides", OVERRIDES, *extra])


def test_dataset_round_trips_and_replays(datasets: Path) -> None:
    assert _record() == 0
    dataset = minari.load_dataset(NAME)
    assert dataset.total_episodes == 2 and dataset.spec.action_space.n == 10
    env = dataset.recover_environment()
    for i, episode in enumerate(dataset.iterate_episodes()):
        steps = len(episode.rewards)
        assert set(episode.observations) == {"energy", "options", "queue", "task"}
        assert episode.observations["options"].shape == (steps + 1, 45)
        assert episode.infos["action_mask"].dtype == np.bool_ and episode.infos["action_mask"].shape == (steps + 1, 10)
        chosen = episode.infos["action_mask"][np.arange(steps), episode.actions]
        assert chosen.all() and not episode.infos["masked_action"].any()
        assert episode.truncations[-1] and not episode.terminations.any()
        # The recorded actions replayed from the recorded seed give the recorded episode.
        obs, _ = env.reset(seed=5 + i)
        np.testing.assert_array_equal(obs["task"], episode.observations["task"][0])
        rewards = [env.step(int(a))[1] for a in episode.actions]
        np.testing.assert_array_equal(rewards, episode.rewards)
        assert episode.infos["totals"]["cost"][-1] == pytest.approx(episode.infos["cost"].sum())


def test_dataset_arguments_are_checked_before_recording(datasets: Path, capsys: pytest.CaptureFixture) -> None:
    assert _record() == 0
    assert _record() == 2 and "exists already" in capsys.readouterr().err
    from agents.cli import main

    assert main(["dataset", "--policy", "accuracy-target", "--name", "no version"]) == 2
    assert "namespace/name-v0" in capsys.readouterr().err
    assert main(["dataset", "--policy", "nope", "--name", "lrm_gym/x-v0"]) == 2
    assert "unknown policy" in capsys.readouterr().err
    assert main(["dataset", "--policy", "model.zip", "--name", "lrm_gym/y-v0"]) == 2
    assert "--algo" in capsys.readouterr().err
    assert not (datasets / "lrm_gym" / "x-v0").exists()
