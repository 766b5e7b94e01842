"""Durchläufe (runs): a Lotse accompanies one company through the programme.

- ``model``: the fixed lists (regions, sectors, size classes), states, phases, structs;
- ``service``: create, read, close and delete runs and their invitation codes, and
  submit a questionnaire through a run code (nothing stored when the code is refused);
- ``view``: the company view of one run (perspectives side by side, gap, start vs end,
  feedback, closing summary), with small employee groups withheld;
- ``dashboard``: the programme's aggregates over many runs, built from whole groups;
- ``pdf``: the printable report and the tandem hand-out as PDFs;
- ``pool``: the matching pool (pseudonyms, profiles, pair markings, settings);
- ``tandems``: the pool's fit matrix, the proposed and agreed tandems, the hand-out.

The privacy rules are in docs/RUNS.md.
"""
