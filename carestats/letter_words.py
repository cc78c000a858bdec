"""Tying a written figure to an indicator by the words around it, against the catalogue's spellings.

For each spelling of each indicator (its name and 其他写法; a “其中:” spelling read after its parent's name;
bracketed parts such as “(养老服务设施)” being qualifiers found anywhere in the sentence; generic tails such
as 人数/金额/数 dropped, their pairs only found where written), the character pairs found in the figure's
clause give m²/n (m of the spelling's n pairs). Words after a figure that run into the next figure with no
delimiter stop where the next figure's whole name begins (“发动210名“爱心妈妈”结对关爱留守儿童6700人”:
结对关爱留守儿童 is 6700's, 爱心妈妈 is 210's). Only indicators whose 计量单位 fits the unit word compete. The best must hold half its pairs and
win by half again (or be whole and three pairs ahead); otherwise the window widens — the clause, then the
sentence — among the same contenders. When even the sentence leaves a tie, a contender is dropped if another
finds every word it finds and more, or as many and all of its own while it lacks some (“事实无人抚养儿童有
126人” is C06, not C08 “新增事实无人抚养儿童”, whose 新增 is not there). What the words still leave open is
reported with its candidates (see letter_check); it is never settled by the figure's value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from carestats.letter_read import LetterText, WrittenFigure, normalise, unit_group
from carestats.profile import Profile
from carestats.text import name_key

_QUOTE_CHARS = dict.fromkeys(map(ord, "“”‘’\"'「」『』《》〈〉"), None)
_SEGMENT = re.compile(r"[^\w#]+|_")
_BRACKET = re.compile(r"\(([^)]*)\)")
_GENERIC_TAILS = ("人数", "人次", "场次", "金额", "数")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
BOUNDS = {1: set(",、;:。!?\n"), 2: set(",;:。!?\n"), 3: set("。;!?\n")}
MIN_RATIO = Decimal("0.5")  # at least half of a name's character pairs must be in the words
MARGIN = Decimal("1.5")  # the best name must score this much better than the next to settle a tie
NO_AFTER_WORDS = ("money", "rate")  # “36万元资金支出用于…”: the words after money are its purpose


def _pairs(text: str) -> frozenset[str]:
    """Character pairs of each run of word characters (digits masked as #)."""
    out: set[str] = set()
    for seg in _SEGMENT.split(_DIGITS.sub("#", text.translate(_QUOTE_CHARS))):
        if len(seg) == 1:
            out.add(seg)
        out.update(seg[i : i + 2] for i in range(len(seg) - 1))
    return frozenset(out)


@dataclass(frozen=True)
class _Spelling:
    main: frozenset[str]  # the name without bracketed parts and generic tails (人数, 金额 …)
    qualifier: frozenset[str]  # bracketed parts: “(养老服务设施)”, matched anywhere in the sentence
    # the pairs the generic tail took away (“老年人数” → 老年: 年人, 人数): not in the score, but words found
    # where written, so that in the last step M01 “65周岁以上老年人数” has every word of “65周岁以上老年人
    # 20960人” that M02 “65周岁以上老年人健康管理人数” has (年人), and is whole
    tail: frozenset[str] = frozenset()


def _core(label: str) -> tuple[str, str, str]:
    """(main words, bracketed qualifier, generic tail dropped) of a catalogue spelling: name_key, no
    “其中:”, no generic tail."""
    key = name_key(label).removeprefix("其中:")
    qualifier = " ".join(_BRACKET.findall(key))
    main = _BRACKET.sub(" ", key).strip()
    for tail in _GENERIC_TAILS:
        if main.endswith(tail) and len(main) - len(tail) >= 2:
            return main[: -len(tail)], qualifier, tail
    return main, qualifier, ""


def _spelling(label: str, parent: str | None = None) -> _Spelling | None:
    """A spelling's pairs. A “其中:” spelling (a row under its parent on the form) is read with the
    parent's name in front: “其中:纳入最低生活保障” under 留守老人数 → 留守老人 纳入最低生活保障."""
    main, qualifier, tail = _core(label)
    if parent is not None and name_key(label).startswith("其中:"):
        main = _core(parent)[0] + main
    pairs = _pairs(main)
    if not pairs:
        return None
    return _Spelling(pairs, _pairs(qualifier), _pairs(main + tail) - pairs if tail else frozenset())


@dataclass(frozen=True)
class _Score:
    score: Decimal
    code: str
    matched: int  # pairs of the best spelling found in the words …
    full: bool  # … and whether that is all of them
    found: frozenset[str] = frozenset()  # … and which pairs they are, its generic tail's written ones too
    spelling: _Spelling | None = None  # … of which spelling


def _dominates(a: _Score, b: _Score) -> bool:
    """Whether the words fit ``a`` better than ``b`` whatever the numbers: every word of ``b`` found is also
    a word of ``a`` found, and ``a`` has more found, or as many and all of its own while ``b`` lacks some.
    “事实无人抚养儿童有126人” is C06 whole; C08 (新增事实无人抚养儿童) finds nothing more and lacks 新增.
    In “新增4名孤儿、9名事实无人抚养儿童” C08 finds 新增 besides all C06 finds."""
    if not b.found <= a.found:
        return False
    return len(a.found) > len(b.found) or (a.full and not b.full)


def _settled(best: _Score, second: _Score) -> bool:
    """The best name wins clearly: half again the runner-up's score, or every pair of it found and at
    least three pairs more than the runner-up (“留守儿童中纳入最低生活保障” over “纳入最低生活保障的儿童”)."""
    return best.score >= MARGIN * second.score or (best.full and best.matched - second.matched >= 3)


class WordMatcher:
    """Ties a figure to an indicator by the words around it (see the module docstring)."""

    def __init__(self, profile: Profile):
        self.profile = profile
        profile.use_unit_words()  # spellings are keyed as the profile's labels are (“车辆(辆)” is 车辆)
        self.spellings: dict[str, list[_Spelling]] = {}
        for ind in profile.indicators.values():
            parent = profile.indicators[ind.parent].name if ind.parent in profile.indicators else None
            found = [s for s in (_spelling(x, parent) for x in (ind.name, *ind.aliases)) if s is not None]
            self.spellings[ind.code] = found

    def candidates(self, unit_word: str) -> list[str]:
        group = unit_group(unit_word)
        return [
            code
            for code, ind in self.profile.indicators.items()
            if unit_group(ind.unit) == group and self.spellings[code]
        ]

    def clause(self, letter: LetterText, written: Sequence[WrittenFigure], index: int) -> str:
        """The words of the figure's own clause: before it back to 、,; … or the figure before, and after
        it (for counts) up to the next; other figures inside are ‘|’. “其中大兴镇纳入…的老年人有1135人”."""
        w = written[index]
        norm, spans, own = _spans(letter, written, index)
        after = _after(norm, spans, own, BOUNDS[1]) if unit_group(w.unit) not in NO_AFTER_WORDS else ""
        return _before(norm, spans, own, 1) + "|" + after

    def tie(
        self, letter: LetterText, written: Sequence[WrittenFigure], index: int
    ) -> tuple[str | None, list[str]]:
        """(the indicator's code, []) or (None, the indicators the words could not tell apart)."""
        code, contenders, _winner = self._tie(letter, written, index, claim=True)
        return code, contenders

    def _claimed(self, letter: LetterText, written: Sequence[WrittenFigure], index: int, after: str) -> str:
        """The words after figure ``index`` less the next figure's whole name written right before it,
        when they run into it with no delimiter: in “发动210名“爱心妈妈”结对关爱留守儿童6700人” the words
        before 6700人 are F02's whole name (结对关爱留守儿童), and only “爱心妈妈” is left to say what 210
        counts. Only a whole name right before the figure: in “向863名经济困难老年人发放服务补贴34.04万元”
        the next figure's name (发放经济困难老年人服务补贴) is spread over the words, which say what 863
        counts too, and nothing is taken. The next figure is tied without this step."""
        nxt = next(
            (k for k in range(index + 1, len(written)) if written[k].paragraph == written[index].paragraph),
            None,
        )
        if nxt is None:
            return after
        _code, _contenders, winner = self._tie(letter, written, nxt, claim=False)
        if winner is None or winner.spelling is None:
            return after
        name = winner.spelling.main | winner.spelling.tail
        text = _DIGITS.sub("#", after.translate(_QUOTE_CHARS)).rstrip()
        start = k = len(text)  # the longest run of the name's pairs ending right before the next figure
        while k >= 2 and text[k - 2 : k] in name:
            start, k = k - 2, k - 1
        if not winner.spelling.main <= _pairs(text[start:]):
            return after
        return text[:start] + "|"

    def _tie(
        self, letter: LetterText, written: Sequence[WrittenFigure], index: int, *, claim: bool
    ) -> tuple[str | None, list[str], _Score | None]:
        """``tie``, with the winner's score (its spelling and the pairs of it found)."""
        w = written[index]
        norm, spans, own = _spans(letter, written, index)
        codes = self.candidates(w.unit)
        if not codes:
            return None, [], None
        use_after = unit_group(w.unit) not in NO_AFTER_WORDS
        after = _after(norm, spans, own, BOUNDS[1]) if use_after else ""
        if claim and after and _runs_into_figure(norm, spans, own):
            after = self._claimed(letter, written, index, after)
        sentence = _pairs(
            _before(norm, spans, own, 3) + " " + _after(norm, spans, own, BOUNDS[3], cross=True)
        )
        # Wider windows reach words that describe other figures (“发放宣传资料2000余份,建成3个示范点”):
        # a name found there must share a pair with the words of the figure's own clause. Not so after
        # another figure (“活动52场次9000余人次”, “2次46余所学校60000余名学生”): those words are shared
        # with, or belong to, the figure before.
        anchor = frozenset() if _after_figure(norm, spans, own) else _pairs(_before(norm, spans, own, 1))
        restricted: set[str] | None = None
        contenders: list[str] = []
        last: list[_Score] = []
        for level in (1, 2, 3):
            words = _pairs(_before(norm, spans, own, level) + after)
            scored = []
            for code in codes:
                if restricted is not None and code not in restricted:
                    continue
                if level > 1 and restricted is None and anchor and not self._anchored(code, anchor):
                    continue
                best = self._score(code, words, sentence)
                if best is not None:
                    scored.append(best)
            if not scored:
                continue
            scored.sort(key=lambda s: (-s.score, s.code))
            if len(scored) == 1 or _settled(scored[0], scored[1]):
                return scored[0].code, [], scored[0]
            contenders = [s.code for s in scored if s.score * MARGIN > scored[0].score]
            restricted = set(contenders)
            last = [s for s in scored if s.code in restricted]
        # The widest window could not settle it by score: a contender whose words are all found is taken
        # over one that finds nothing more and lacks words of its own (C06 over C08 without “新增”).
        # Only in the widest window, where a word such as 新增 said once for a list (“新增4名孤儿、9名…”)
        # has been seen.
        undominated = [a for a in last if not any(_dominates(b, a) for b in last if b is not a)]
        if len(undominated) == 1:
            return undominated[0].code, [], undominated[0]
        return None, contenders, None

    def _anchored(self, code: str, anchor: frozenset[str]) -> bool:
        return any(sp.main & anchor for sp in self.spellings[code])

    def _score(self, code: str, words: frozenset[str], sentence: frozenset[str]) -> _Score | None:
        """m²/n for the best spelling (m of its n pairs in the words) plus the same for its bracketed
        qualifier within the sentence; None when no spelling has half of its pairs in the words."""
        best: _Score | None = None
        for sp in self.spellings[code]:
            m, n = len(sp.main & words), len(sp.main)
            if n == 0 or Decimal(m) < MIN_RATIO * n or m < min(2, n):
                continue
            score = Decimal(m * m) / n
            if sp.qualifier:
                mq = len(sp.qualifier & sentence)
                score += Decimal(mq * mq) / len(sp.qualifier)
            if best is None or score > best.score:
                best = _Score(score, code, m, m == n, (sp.main | sp.tail) & words, sp)
        return best


def _spans(
    letter: LetterText, written: Sequence[WrittenFigure], index: int
) -> tuple[str, list[tuple[int, int]], int]:
    """The figure's paragraph normalised, the spans of its figures there, and which of them it is."""
    w = written[index]
    norm, origin = normalise(letter.paragraphs[w.paragraph].text)
    first: dict[int, int] = {}
    for i, o in enumerate(origin):
        first.setdefault(o, i)
    spans = [
        (first[f.start], first[f.end - 1] + 1 if f.end - 1 in first else len(norm))
        for f in written
        if f.paragraph == w.paragraph
    ]
    own = spans.index((first[w.start], first[w.end - 1] + 1 if w.end - 1 in first else len(norm)))
    return norm, spans, own


def _before(norm: str, spans: list[tuple[int, int]], own: int, level: int) -> str:
    """The words before figure ``own`` back to a boundary of ``level``; level 1 also stops at a figure.
    Other figures inside become ‘|’ (no character pair spans them)."""
    start = spans[own][0]
    bounds = BOUNDS[level]
    ends = {e for k, (_s, e) in enumerate(spans) if k != own}
    i = start
    while i > 0 and norm[i - 1] not in bounds and not (level == 1 and i in ends):
        i -= 1
    return _cut(norm, spans, own, i, start)


def _after_figure(norm: str, spans: list[tuple[int, int]], own: int) -> bool:
    """Whether the figure's clause begins right after another figure (no delimiter between them)."""
    start = spans[own][0]
    ends = {e for k, (_s, e) in enumerate(spans) if k != own}
    i = start
    while i > 0 and norm[i - 1] not in BOUNDS[1]:
        if i in ends:
            return True
        i -= 1
    return i in ends


def _runs_into_figure(norm: str, spans: list[tuple[int, int]], own: int) -> bool:
    """Whether the words after figure ``own`` run into the next figure with no delimiter between them."""
    starts = {s for k, (s, _e) in enumerate(spans) if k != own}
    i = spans[own][1]
    while i < len(norm) and norm[i] not in BOUNDS[1]:
        if i in starts:
            return True
        i += 1
    return False


def _after(norm: str, spans: list[tuple[int, int]], own: int, bounds: set[str], cross: bool = False) -> str:
    end = spans[own][1]
    starts = {s for k, (s, _e) in enumerate(spans) if k != own}
    i = end
    while i < len(norm) and norm[i] not in bounds and (cross or i not in starts):
        i += 1
    return _cut(norm, spans, own, end, i)


def _cut(norm: str, spans: list[tuple[int, int]], own: int, a: int, b: int) -> str:
    out = []
    i = a
    while i < b:
        inside = next((e for k, (s, e) in enumerate(spans) if k != own and s <= i < e), None)
        if inside is not None:
            out.append("|")
            i = inside
            continue
        out.append(norm[i])
        i += 1
    return "".join(out)
