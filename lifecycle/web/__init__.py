"""The portal (`scr web`): composed in lifecycle/web/app.py, its pages by concern in signin,
casework, learning and board (docs/architecture.md, "The portal")."""
