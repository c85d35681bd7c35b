"""Rich output: the display publisher and the display hook of the shell."""

from __future__ import annotations

from typing import Any, Callable

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher

from ._streams import flush_streams

Publish = Callable[..., None]


class TandemDisplayPublisher(DisplayPublisher):
    """Sends ``display()`` and ``clear_output()`` to the frontend."""

    publish_message: Publish

    def publish(  # type: ignore[override]
        self,
        data: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        source: str | None = None,
        *,
        transient: dict[str, Any] | None = None,
        update: bool = False,
        **kwargs: Any,
    ) -> None:
        flush_streams()
        content = {"data": data, "metadata": metadata or {}, "transient": transient or {}}
        self.publish_message("update_display_data" if update else "display_data", content)

    def clear_output(self, wait: bool = False) -> None:
        flush_streams()
        self.publish_message("clear_output", {"wait": bool(wait)})


class TandemDisplayHook(DisplayHook):
    """Sends the value of a cell's last expression as ``execute_result``."""

    publish_message: Publish

    def start_displayhook(self) -> None:
        self._bundle: dict[str, Any] = {"data": {}, "metadata": {}}

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict: dict, md_dict: dict | None = None) -> None:
        self._bundle["data"] = format_dict
        self._bundle["metadata"] = md_dict or {}

    def finish_displayhook(self) -> None:
        flush_streams()
        if self._bundle["data"]:
            content = {"execution_count": self.prompt_count, **self._bundle}
            self.publish_message("execute_result", content)
