"""The portal (`scr web`): lifecycle/web/app.py."""
