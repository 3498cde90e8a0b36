"""The embedded broker never hands a worker a message that is still being written."""

from __future__ import annotations

import os
from queue import Empty

import pytest
from kombu import Connection

from builder import broker


@pytest.fixture
def channel(tmp_path):
    folder = str(tmp_path)
    options = {"data_folder_in": folder, "data_folder_out": folder, "store_processed": False}
    with Connection("filesystem://", transport=broker.Transport, transport_options=options) as c:
        yield c.default_channel


def test_a_message_shows_only_once_written_whole(channel, tmp_path, monkeypatch):
    seen_while_writing = []
    replace = os.replace

    def watching_replace(source, target):
        seen_while_writing.extend(os.listdir(tmp_path))
        with pytest.raises(Empty):
            channel._get("runs")  # a worker polling now finds nothing to take
        replace(source, target)

    monkeypatch.setattr(broker.os, "replace", watching_replace)
    channel._put("runs", {"body": "run 7"})

    assert len(seen_while_writing) == 1 and seen_while_writing[0].endswith(".runs.msg.partial")
    assert [name.endswith(".runs.msg") for name in os.listdir(tmp_path)] == [True]
    assert channel._get("runs") == {"body": "run 7"}
    assert os.listdir(tmp_path) == []
