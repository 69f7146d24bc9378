"""Protocol v2 (docs/platform-api-v2.md) on the reference platform: the taxpayer it serves, its own
clock, number blocks, quota, uploads checked afterwards, the platform channel, monthly summaries.

- clock: the platform's time (Beijing), movable by `POST /_clock`;
- store: the SQLite tables (`v2_*`, in the platform's own file beside v1's);
- platform: the rules and the state (V2Platform), one request at a time;
- routes: HTTP paths to V2Platform, auth, JSON.

Numbers, months and deadlines are the desk's own rules (app.core.official_numbers, app.core.deadlines).
What the reference server decides where the contract is silent: docs/platform-api-v2-reference.md.
"""
