"""Resources: run settings come from the environment (interface.md), never from files."""

import dagster as dg

from pipelines.lib.config import Settings, load_settings


class ParSettingsResource(dg.ConfigurableResource):
    """The run's settings (PAR_SOURCES, PAR_WAREHOUSE, PAR_AS_OF, …), read from the environment at run
    time so the nightly schedule always sees today's as-of date. `as_of` overrides PAR_AS_OF."""

    as_of: str | None = None

    def get(self) -> Settings:
        env = None
        if self.as_of:
            import os

            env = {**os.environ, "PAR_AS_OF": self.as_of}
        return load_settings(env)
