from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.stamps.serials import (
    MAX_SEQUENCE,
    InvalidSerial,
    damm_digit,
    grouped,
    is_valid_damm,
    sequence_of,
    serial_for,
)

sequences = st.integers(1, MAX_SEQUENCE)


@given(sequences)
def test_a_serial_is_twelve_digits_and_round_trips(sequence: int) -> None:
    serial = serial_for(sequence)
    assert len(serial) == 12
    assert serial.isdigit()
    assert sequence_of(serial) == sequence
    assert sequence_of(grouped(serial)) == sequence


@given(sequences, st.data())
def test_every_single_digit_error_is_caught(sequence: int, data: st.DataObject) -> None:
    serial = serial_for(sequence)
    i = data.draw(st.integers(0, len(serial) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != serial[i]]))
    assert not is_valid_damm(serial[:i] + digit + serial[i + 1 :])


@given(sequences, st.data())
def test_every_adjacent_swap_is_caught(sequence: int, data: st.DataObject) -> None:
    serial = serial_for(sequence)
    i = data.draw(st.integers(0, len(serial) - 2))
    if serial[i] == serial[i + 1]:
        return  # swapping equal digits changes nothing
    swapped = serial[:i] + serial[i + 1] + serial[i] + serial[i + 2 :]
    assert not is_valid_damm(swapped)


def test_all_single_errors_and_swaps_exhaustively_for_one_serial() -> None:
    serial = serial_for(1234567)
    for i in range(12):
        for d in "0123456789":
            if d != serial[i]:
                assert not is_valid_damm(serial[:i] + d + serial[i + 1 :])
    for i in range(11):
        if serial[i] != serial[i + 1]:
            assert not is_valid_damm(serial[:i] + serial[i + 1] + serial[i] + serial[i + 2 :])


def test_grouped_in_fours() -> None:
    assert grouped("000000000013") == "0000 0000 0013"


@pytest.mark.parametrize("text", ["", "12", "abcdefghijkl", "0000000000000", "000000000000"])
def test_malformed_serials_are_refused(text: str) -> None:
    with pytest.raises(InvalidSerial):
        sequence_of(text)


def test_sequence_out_of_range_is_refused() -> None:
    with pytest.raises(InvalidSerial):
        serial_for(0)
    with pytest.raises(InvalidSerial):
        serial_for(MAX_SEQUENCE + 1)


@given(st.integers(min_value=1, max_value=MAX_SEQUENCE))
def test_the_fast_check_digit_is_damms(sequence: int) -> None:
    """serial_for looks the check digit up in tables; it must be Damm's, digit by digit."""
    body = f"{sequence:011d}"
    assert serial_for(sequence) == body + str(damm_digit(body))
