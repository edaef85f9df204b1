"""The benchmark: analytic and learned routers under one protocol, with confidence intervals.

- :mod:`agents.benchmark.suite`: suite files (``configs/suites/*.yaml``) parsed and validated.
- :mod:`agents.benchmark.runs`: a suite planned into independent runs; :func:`execute_run` runs one.
- :mod:`agents.benchmark.store`: finished runs kept on disk as they finish, so a killed benchmark resumes.
- :mod:`agents.benchmark.statistics`: means, confidence intervals, learned-vs-analytic verdicts.
- :mod:`agents.benchmark.report`: Markdown/CSV/JSON tables and plots.
- :mod:`agents.benchmark.executors`: where runs execute (local process pool; :mod:`~agents.benchmark.ray_executor`
  for Ray clusters).
"""
