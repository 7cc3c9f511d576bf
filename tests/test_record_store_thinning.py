"""Thinning's plan, case by case: which frames go, where their changes go."""

from __future__ import annotations

from pgcrisis.store._thinning import MINUTE_US, FrameInfo, kept, plan

FAST, FULL = 0, 1
ALL = 0b1110  # fields 1, 2 and 3 read


def frames(*spec: tuple[int, int]) -> list[FrameInfo]:
    """(seconds, kind) pairs as frames that read every field."""
    return [FrameInfo(s * 1_000_000, kind, None, ALL) for s, kind in spec]


def sec(s: int) -> int:
    return s * 1_000_000


def test_one_frame_a_minute_survives_and_every_warning() -> None:
    batch = frames((0, FULL), (10, FAST), (20, FAST), (60, FAST), (70, FAST), (130, FULL))
    batch[2] = FrameInfo(sec(20), FAST, 1, ALL)      # a warning
    batch[4] = FrameInfo(sec(70), FAST, 0, ALL)      # a critical
    assert sorted(kept(batch, last_t=sec(130))) == [0, sec(20), sec(60), sec(70), sec(130)]
    assert sec(130) // MINUTE_US == 2


def test_a_deleted_change_moves_to_the_next_kept_frame() -> None:
    batch = frames((0, FULL), (10, FAST), (20, FAST), (60, FULL))
    result = plan(batch, None, [(1, sec(10)), (2, sec(10)), (2, sec(20)), (3, sec(20)),
                                (3, sec(60))], clocked=[], last_t=sec(60))
    assert result.delete == [sec(10), sec(20)]
    assert sorted(result.moves) == [(1, sec(10), sec(60)), (2, sec(20), sec(60))]
    # field 2: the earlier change is superseded; field 3: the kept frame has its own change
    assert sorted(result.drops) == [(2, sec(10)), (3, sec(20))]


def test_the_frame_after_the_batch_keeps_its_own_change() -> None:
    batch = frames((0, FULL), (30, FAST))
    after = FrameInfo(sec(60), FAST, None, ALL)
    result = plan(batch, after, [(1, sec(30)), (1, sec(60)), (2, sec(30))], clocked=[],
                  last_t=sec(90))
    assert result.delete == [sec(30)]
    assert result.drops == [(1, sec(30))]
    assert result.moves == [(2, sec(30), sec(60))]


def test_a_change_with_nothing_after_it_keeps_its_frame() -> None:
    batch = frames((0, FULL), (30, FAST))
    result = plan(batch, None, [(1, sec(30))], clocked=[], last_t=sec(99))
    assert result.delete == [] and result.moves == []


def test_age_references_follow_a_clocked_field_read_only_in_deleted_frames() -> None:
    reads_clocked = 1 << 3
    batch = [FrameInfo(0, FULL, None, ALL), FrameInfo(sec(10), FAST, None, reads_clocked),
             FrameInfo(sec(20), FAST, None, 0), FrameInfo(sec(60), FAST, None, 0),
             FrameInfo(sec(70), FAST, None, 0)]
    result = plan(batch, None, [(3, sec(10))], clocked=[3], last_t=sec(70))
    assert result.moves == [(3, sec(10), sec(60))]
    assert result.ref_copies == [(3, sec(10), sec(60))]


def test_the_frame_after_the_batch_gets_the_references_it_needs() -> None:
    batch = [FrameInfo(0, FULL, None, ALL), FrameInfo(sec(50), FAST, None, 1 << 3)]
    after = FrameInfo(sec(60), FAST, None, 0)
    result = plan(batch, after, [], clocked=[3], last_t=sec(90))
    assert result.delete == [sec(50)]
    assert result.ref_copies == [(3, sec(50), sec(60))]
