"""Migration operations of the project's own.

`AlterLinkIndex` is Django's `AlterField` for the one change of a foreign key that touches
nothing but its own table: whether the key column has an index of its own. The database
change is AlterField's (the index dropped or made). Only the migration state is handled
differently: AlterField of a relation re-renders every model related to it, recursively (for a
link to a user, nearly every model of the project), once per operation, which made each
migration test that walks the project back and forth take minutes. An index changes no
relation, so the model is reloaded as an AddIndex reloads it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.migrations.operations import AlterField
from django.db.migrations.state import ProjectState


class AlterLinkIndex(AlterField):
    """A foreign key gains or loses its own index (`db_index`); nothing else of it changes."""

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        model_key = (app_label, self.model_name_lower)
        fields = state.models[model_key].fields
        old = fields[self.name]
        if not isinstance(self.field, models.ForeignKey) or _without_index(old) != _without_index(
            self.field
        ):
            raise ValueError(
                f"AlterLinkIndex may change only db_index of a foreign key: "
                f"{app_label}.{self.model_name}.{self.name}"
            )
        # As ProjectState.alter_field, with the reload an index change needs.
        # The relations index, when the state has built it (ProjectState keeps it private).
        if state._relations is not None:  # type: ignore[attr-defined]
            fields.pop(self.name)
            state.resolve_model_field_relations(model_key, self.name, old)
            fields[self.name] = self.field
            state.resolve_model_field_relations(model_key, self.name, self.field)
        else:
            fields[self.name] = self.field
        state.reload_model(*model_key, delay=True)

    def describe(self) -> str:
        return f"Alter the own index of {self.model_name}.{self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.model_name_lower}_{self.name_lower}_index"


def _without_index(field: Any) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    _, path, args, kwargs = field.deconstruct()
    kwargs.pop("db_index", None)
    return path, tuple(args), kwargs
