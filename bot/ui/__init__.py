"""Discord views (buttons, select menus) shared by the cogs."""
