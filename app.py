"""The web chat, as ``python app.py`` (the same as ``assistant serve``; the code is assistant/ui/web.py)."""

from assistant.ui.web import main

if __name__ == "__main__":
    main()
