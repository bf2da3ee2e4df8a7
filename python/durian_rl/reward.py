"""The built-in tasks' reward, ported from src/trainer/tasks/reward.ts (`scoreResponse`): reward = 0.1 * format +
0.9 * accuracy. Token ids are the response vocabulary of `durian export-tasks` (`<split>.meta.json`):
0 pad, 1 bos, 2 eos, 3..18 the numbers 0..15, then yes, no, +, -, =, <, >. The exported tasks carry responses
scored by the TypeScript (`rewardChecks`); tests/test_tasks_export.py checks this port against every one of them.

format = 1 iff the tokens before the first EOS (within 8 tokens) are a bare answer, NUMBER (OP NUMBER){1,2} =
NUMBER, or NUMBER REL NUMBER yes|no, and the final answer has the question's kind (yes/no vs a number).
accuracy = 1 iff the token just before EOS is the true answer. No EOS within 8 tokens: 0 and 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

FORMAT_WEIGHT = 0.1
ACCURACY_WEIGHT = 0.9
RESPONSE_MAX_TOKENS = 8
MAX_ANSWER = 15

RESPONSE_VOCAB: tuple[str, ...] = (
    "<pad>", "<bos>", "<eos>", *(str(n) for n in range(MAX_ANSWER + 1)), "yes", "no", "+", "-", "=", "<", ">",
)
_IDS = {word: index for index, word in enumerate(RESPONSE_VOCAB)}
EOS_ID = _IDS["<eos>"]
_FIRST_NUMBER_ID = 3
_PLUS, _MINUS, _EQUALS, _LESS, _GREATER = _IDS["+"], _IDS["-"], _IDS["="], _IDS["<"], _IDS[">"]
_YES, _NO = _IDS["yes"], _IDS["no"]


@dataclass(frozen=True)
class ResponseScore:
    format: int
    accuracy: int
    reward: float


def _is_number(token: int) -> bool:
    return _FIRST_NUMBER_ID <= token <= _FIRST_NUMBER_ID + MAX_ANSWER


def _answer_word(token: int) -> Optional[str]:
    return RESPONSE_VOCAB[token] if _is_number(token) or token in (_YES, _NO) else None


def _is_well_formed(body: Sequence[int]) -> bool:
    n = len(body)
    if n == 1:
        return _answer_word(body[0]) is not None
    if n == 4:
        return _is_number(body[0]) and body[1] in (_LESS, _EQUALS, _GREATER) and _is_number(body[2]) and body[3] in (_YES, _NO)
    if n in (5, 7) and body[n - 2] == _EQUALS and _is_number(body[n - 1]):
        return all(_is_number(body[i]) if i % 2 == 0 else body[i] in (_PLUS, _MINUS) for i in range(n - 2))
    return False


def score_response(tokens: Sequence[int], answer: str) -> ResponseScore:
    """Format, accuracy and reward of a response (token ids; anything after the first EOS is ignored) to a task
    whose true answer is `answer` ('0'..'15', 'yes' or 'no')."""
    scanned = [int(token) for token in list(tokens)[:RESPONSE_MAX_TOKENS]]
    if EOS_ID not in scanned:
        return ResponseScore(0, 0, 0.0)
    body = scanned[: scanned.index(EOS_ID)]
    final = _answer_word(body[-1]) if body else None
    yes_no = answer in ("yes", "no")
    well_formed = final is not None and _is_well_formed(body) and (final in ("yes", "no")) == yes_no
    format_score = 1 if well_formed else 0
    accuracy = 1 if final == answer else 0
    return ResponseScore(format_score, accuracy, FORMAT_WEIGHT * format_score + ACCURACY_WEIGHT * accuracy)
