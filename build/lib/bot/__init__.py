"""nexus-bot: enforces a Nexus organisation's Definition of Done on GitHub and Forgejo/Gitea."""

__version__ = "0.1.0"
