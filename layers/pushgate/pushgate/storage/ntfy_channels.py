"""The NtfyChannels table: one item per managed private ntfy channel (an ntfy account and
topic pushgate made for one user of one app), `Channel` in and out.

Key: `<app_id>#<owner digest>#<user_id>` (a user is their issuer and subject; the digest has a
fixed width, so keys cannot collide). GSI `by_app` lists an app's channels, for removing them
all when the app is disabled. `state` says how far provisioning got: `provisioning` (the
account may exist on the ntfy server, the device not yet), `active`, or `removing` (some of
it may still exist): a call that finds a channel half done finishes what it started.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from pushgate.storage.base import conditional, table_meta

State = Literal["provisioning", "active", "removing"]


class ChannelsByApp(GlobalSecondaryIndex["NtfyChannelRecord"]):
    class Meta:
        index_name = "by_app"
        projection = AllProjection()

    app_id = UnicodeAttribute(hash_key=True)
    channel_key = UnicodeAttribute(range_key=True)


class NtfyChannelRecord(Model):
    """The item (storage only: everything else sees `Channel`)."""

    Meta = table_meta("ntfy_channels_table_name")

    channel_key = UnicodeAttribute(hash_key=True)
    app_id = UnicodeAttribute()
    owner_issuer = UnicodeAttribute()
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    password_sealed = UnicodeAttribute()
    topic = UnicodeAttribute()
    device_id = UnicodeAttribute(null=True)
    state = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    by_app = ChannelsByApp()


@dataclass(frozen=True, slots=True)
class Channel:
    channel_key: str
    app_id: str
    owner_issuer: str
    user_id: str
    username: str
    password_sealed: str
    topic: str
    device_id: str | None
    state: State
    created_at: str
    updated_at: str


def channel_key(app_id: str, owner_issuer: str, user_id: str) -> str:
    owner = hashlib.sha256(owner_issuer.encode()).hexdigest()[:16]
    return f"{app_id}#{owner}#{user_id}"


def _channel(record: NtfyChannelRecord) -> Channel:
    return Channel(
        channel_key=record.channel_key,
        app_id=record.app_id,
        owner_issuer=record.owner_issuer,
        user_id=record.user_id,
        username=record.username,
        password_sealed=record.password_sealed,
        topic=record.topic,
        device_id=record.device_id,
        state=record.state,  # type: ignore[arg-type]
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def get(key: str) -> Channel | None:
    try:
        return _channel(NtfyChannelRecord.get(key, consistent_read=True))
    except NtfyChannelRecord.DoesNotExist:
        return None


def create(channel: Channel) -> bool:
    """Record a channel about to be provisioned; False when the key has one already."""
    record = NtfyChannelRecord(
        channel.channel_key,
        app_id=channel.app_id,
        owner_issuer=channel.owner_issuer,
        user_id=channel.user_id,
        username=channel.username,
        password_sealed=channel.password_sealed,
        topic=channel.topic,
        device_id=channel.device_id,
        state=channel.state,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )
    return conditional(
        lambda: record.save(condition=NtfyChannelRecord.channel_key.does_not_exist())
    )


def set_state(key: str, state: State, *, now: str, device_id: str | None = None) -> bool:
    """Move an existing channel to `state` (with its device, once it has one); False when it
    is gone."""
    actions = [NtfyChannelRecord.state.set(state), NtfyChannelRecord.updated_at.set(now)]
    if device_id is not None:
        actions.append(NtfyChannelRecord.device_id.set(device_id))
    return conditional(
        lambda: NtfyChannelRecord(key).update(
            actions=actions, condition=NtfyChannelRecord.channel_key.exists()
        )
    )


def delete(key: str) -> None:
    NtfyChannelRecord(key).delete()


def of_app(app_id: str, *, limit: int) -> tuple[list[Channel], bool]:
    """Up to `limit` of the app's channels, and whether there may be more."""
    page = NtfyChannelRecord.by_app.query(app_id, limit=limit)
    channels = [_channel(record) for record in page]
    return channels, page.last_evaluated_key is not None
