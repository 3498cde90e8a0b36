"""The embedded default's broker: kombu's file-system transport, with messages written atomically.

kombu's transport creates a message file in the queue folder and then writes into it, while
consumers take any file there without waiting on its lock: a worker polling at that moment
takes an empty file, fails to decode it, and the task is lost (seen with two workers under
load, `make bench`). Here a message is written under a name no consumer takes and renamed into
place when complete (a rename within a folder is atomic).
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        """Put `payload` on `queue`: write it aside, then rename it into the queue folder."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        partial = f"{path}.partial"  # consumers take only names ending in ".<queue>.msg"
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, path)
        except OSError as error:
            raise ChannelError(f"Cannot add file {path!r} to directory") from error


class Transport(filesystem.Transport):
    Channel = Channel
