"""Discord community bot for the Data Science at Home podcast."""

__version__ = "0.1.0"
USER_AGENT = f"DataScienceAtHomeBot/{__version__} (+https://datascienceathome.com)"
