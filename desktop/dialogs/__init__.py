"""The editor's dialogs: errors, delete confirmation, select by expression, and the prompt hook."""

from .delete_confirmation import confirm_delete, delete_message
from .error_dialog import ErrorDialog, format_exception
from .prompts import Prompts, UnsavedAnswer
from .select_expression import SelectByExpressionDialog, SelectionMode, compile_expression

__all__ = [
    "ErrorDialog",
    "format_exception",
    "confirm_delete",
    "delete_message",
    "Prompts",
    "UnsavedAnswer",
    "SelectByExpressionDialog",
    "SelectionMode",
    "compile_expression",
]
