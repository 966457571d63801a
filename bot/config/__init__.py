"""The organisation's rules as data: ``config/dod.yml``, optionally extended per repository.

``base`` holds what every part of the schema shares (and ``ConfigError``), ``dod`` the DoD schema,
``ready`` the Ready and triage schema, ``gherkin`` cucumber's Gherkin keywords per language (the
``gherkin-official`` package's table), ``loader`` the YAML loading with file:line:field errors.
"""

from .base import Condition, ConfigError, ConfigNotice, EvidenceBase, Strict
from .dod import Config, DodItem, Labels, Reporting, ReviewPolicy, Team, WaiverPolicy
from .loader import DEFAULT_CONFIG_PATH, MAX_CONFIG_BYTES, MAX_CONFIG_NODES, default_config_text, load_config
from .ready import (
    READY_CRITERIA,
    READY_REASONS,
    ReadyCommentText,
    ReadyConfig,
    ReadyCriterionText,
    ReadyLanguage,
    TriageConfig,
)

__all__ = [
    "Condition", "ConfigError", "ConfigNotice", "EvidenceBase", "Strict", "Config", "DodItem", "Labels", "Reporting",
    "ReviewPolicy", "Team", "WaiverPolicy", "DEFAULT_CONFIG_PATH", "MAX_CONFIG_BYTES", "MAX_CONFIG_NODES",
    "default_config_text", "load_config", "READY_CRITERIA", "READY_REASONS", "ReadyCommentText",
    "ReadyConfig", "ReadyCriterionText", "ReadyLanguage", "TriageConfig",
]
