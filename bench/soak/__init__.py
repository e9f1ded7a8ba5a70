"""The soak: a thousand real SIP calls and the faults of a real day (`python -m bench.soak`).

- `scenarios`: the kinds of caller and the record each must get (the simulated call);
- `faults`: the menu file saved while calls run, parts of the stack stopped and started;
- `run`: the calls, the faults and the samples of the router process;
- `check`: every call against its record (read through `CallRecord`), and the router's figures;
- `figures`: those figures, typed (what bench/results/soak-*.json holds).

docs/reliability.md has the figures of the long run and the command that reproduces them.
"""
