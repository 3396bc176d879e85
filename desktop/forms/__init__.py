"""Feature forms built from layer definitions, and the attribute editors they use."""

from .feature_form import FeatureForm, validation_message
from .widgets import FieldDelegate, PhotoEditor, create_editor

__all__ = ["FeatureForm", "validation_message", "create_editor", "PhotoEditor", "FieldDelegate"]
