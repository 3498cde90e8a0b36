"""Pure run logic: the mapping language, its build-time checks and `run if` conditions.

Nothing here imports Django, so the validator, the executor and scripts share one implementation:

- `references`: parse `{{ steps.find.data.data[0].id | default("") }}` into `Template`s.
- `mapping`: resolve a step's input against a run's context (`resolve`).
- `typecheck`: check references against JSON Schemas before a workflow is saved (`check_value`).
- `conditions`: validate, evaluate and describe `run if` groups.
"""
