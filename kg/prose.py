"""Rule-based triple extraction from prose: regular expressions over capitalised mentions, copulas,
appositives, passives and coordinated verb phrases.

No model and no download, so it is fast and predictable; tuned for encyclopaedic English prose. These are
the rules the offline extractor had before it read document structure (`kg/offline.py` now runs them on
the prose blocks only); `bench/kg_extract.py` still scores them alone as the "before" figures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kg.model import Chunk, Triple
from kg.settings import KGSettings
from kg.text import sentences


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


_LEAD_WORDS = _words(
    "the a an in on at however this that these those it he she they his her its their after before "
    "during when while although since as by from with for today also both many some most in 1 there here "
    "then later early each every one two three our we i you yet but and or so if "
)
# Words that follow a sentence's first word when that word is no name ("Note that", "Not all", "Since you").
_FUNCTION_WORDS = _words("that all the a an this these those you we it if to of how what which there your our")
# Words after "The <Name>" that are no part of the name: verbs, conjunctions, prepositions
_NOT_HEADS = _words(
    "and but for with from into that which who can could will would may might must should are was were "
    "has had have does did been being also then"
)
_PRONOUNS = {"he", "she", "it", "they", "its", "his", "her", "their", "this"}
_CONNECT = r"(?:of|the|de|del|della|van|von|der|den|da|du|la|le|y|&|for|am|bin|al)"
_CAP = r"(?:[A-Z]\.|[A-Z][\w'’.\-]*[\w]|[A-Z])"
_MENTION = re.compile(
    rf"(?:{_CAP}(?:\s+(?:{_CONNECT}\s+)*{_CAP})*)"
    r"|(?:(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+\d{1,2},\s+\d{4})|\b(?:1\d{3}|20\d{2})\b|(?<![\w@])@[A-Za-z][\w-]+"
)
_MONTH_DATE = re.compile(r"^(?:January|February|March|April|May|June|July|August|September|October|November|December)")
_AUX = re.compile(
    r"^(?:(?:is|was|are|were|be|been|being|has\s+been|had\s+been|have\s+been|will\s+be)\s+)+(?:also\s+)?",
    re.IGNORECASE,
)
_DET = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_VERBISH = re.compile(
    r"\b(?:is|was|are|were|has|had|have|born|died|founded|co-founded|created|developed|designed|wrote|written|"
    r"directed|produced|invented|discovered|located|based|headquartered|married|acquired|bought|owns|owned|"
    r"leads|led|works|worked|studied|graduated|joined|won|received|plays|played|lives|lived|visited|"
    r"published|released|built|named|called|known|part|member|capital|president|ceo|chairman|director|"
    r"author|son|daughter|wife|husband|father|mother|brother|sister|employs|employed|teaches|taught|"
    r"attended|represents|borders|flows|runs|uses|supports|depends|contains|includes|belongs|became|"
    r"serves|served|manufactures|makes|made|sells|hosts|hosted|leads|succeeded|preceded|replaced|"
    r"\w+ed|\w+es|\w+s)\b",
    re.IGNORECASE,
)
_ORG_WORDS = _words(
    "university inc inc. corp corp. corporation company co co. ltd ltd. llc institute foundation "
    "association agency bank group party council committee society college school laboratory "
    "laboratories labs lab museum team club records press times ministry department organization "
    "organisation federation union academy church hospital network studios systems technologies airlines "
    "motors "
)
_PLACE_WORDS = _words(
    "city river mountain mountains mount lake island islands ocean sea street county state province "
    "kingdom republic valley park bridge tower desert bay coast region district village town square "
    "airport "
)
_PERSON_REL = re.compile(r"^(?:born|died|married|studied|graduated|wife|husband|son|daughter|father|mother)\b")
_PLACE_REL = re.compile(r"\b(?:in|at|near|from|to)$")
_BY_REL = re.compile(r"\bby$")
_COPULA_NP = re.compile(
    r"^\s+(?:is|was|are|were)\s+(?:also\s+)?(a|an|the)\s+"
    r"((?:[a-z][a-z\-]*|[A-Z][\w\-/]*)(?:\s+(?:[a-z][a-z\-]*|[A-Z][\w\-/]*)){0,4}?)"
    r"(?=\s*(?:[,.;:!?]|$|\s+(?:that|which|who|where|with|of|in|on|at|by|from|for|and|since|to|used|"
    r"supported|designed|built|made|developed|written|based|targeting|providing|offering)\b))"
)
# "X, or Y as short version, is ...", "X (Y) is ...": an aside between a subject and its verb
_ASIDE = re.compile(r"^\s*(?:,\s*or\s+[^,]{1,40},|,\s*(?:also\s+known\s+as|aka)\s+[^,]{1,40},|\s*\([^()]{1,60}\))")
# "X is considered safe for production environments", "X is backed by a very fast entropy stage"
_PASSIVE_NP = re.compile(
    r"^(?:\s+(?:is|are|was|were)|['’]s)\s+(?:(?:also|currently|now|still|generally|widely|officially|natively)\s+)?"
    r"([a-z]+(?:ed|en|wn))\s+(?:([a-z]+)\s+)?(by|for|in|on|to|with|within|as|from|at|into)\s+"
    r"(?:the\s+|a\s+|an\s+)?([a-z][a-z\-]*(?:\s+[a-z][a-z\-]*){0,4}?)(?=\s*(?:[,.;:!?]|$))"
)
# "…, a/an/the NP by/for …" after a name: what the name is ("lzbench, an open-source in-memory benchmark by …")
_APPOSITIVE_NP = re.compile(
    r"^\s*,\s*(a|an|the)\s+((?:[a-z][a-z\-]*|[A-Z][\w\-]*)(?:\s+(?:[a-z][a-z\-]*|[A-Z][\w\-]*)){0,4}?)"
    r"(?=\s*(?:[,.;:!?]|$|\s+(?:by|from|that|which|with)\b))"
)
# "... that uses SIMD instructions to ...": the verb and object of a relative clause after "X is a NP"
_THAT_OBJECT = re.compile(
    r"^(?:that|which)\s+([a-z]+(?:es|s))\s+(?:the\s+|a\s+|an\s+)?"
    r"((?:[a-z][a-z\-]*|[A-Z][\w\-/]*)(?:\s+(?:[a-z][a-z\-]*|[A-Z][\w\-/]*)){0,3}?)"
    r"(?=\s*(?:[,.;:!?]|$|\s+(?:to|that|which|for|on|in|with|and|as)\b))"
)
# ", provided by Huff0 and FSE": a participle after a noun phrase, and the names it points to
_PARTICIPLE = re.compile(r"\s*,?\s*([a-z]+(?:ed|en|wn))\s+(by|in|on|with|from|for)\s+(?:the\s+|a\s+|an\s+)?")
# "... the build system of this project": the document's subject
_THIS_PROJECT = re.compile(r"^of\s+(?:this|the)\s+(?:project|package|library|tool|program|software|repository)\b")
# "X and Y are maintained as part of this project": the document's subject has them
_PART_OF_THIS = re.compile(r"\bpart\s+of\s+(?:this|the)\s+(?:project|package|library|tool|program|software|suite)\b")
# "The default branch is main.": a definite description in a document about X describes X
_THE_NP_IS = re.compile(r"^\s*(?:The|Its|Our)\s+([a-z][\w-]*(?:\s+[a-z][\w-]*){0,3})\s+(?:is|are)\s+$")
# "The machine ships with DGX OS": a document about one thing calls it by its kind
_THE_THING = re.compile(
    r"\s*((?:The|This)\s+(?:machine|device|system|product|box|unit|appliance|computer|server|board|project|"
    r"package|library|tool|program|application|app|software))\b(?!\s*[-'’])"
)
_RELATIVE = re.compile(
    r"\s*(?:that|which|who)\s+(?:(?:later|also|now|first|then|still|originally)\s+)?([a-z]+(?:ed|es|s))"
    r"(?:\s+(in|on|at|by|for|to|with|from|into))?\s+(?:the\s+|a\s+|an\s+)?"
)
# "... on ports 9000 (web) and 9001 (admin)": ports, each with its qualifier
_PORTS = re.compile(r"\bports?\s+((?:\d{2,5}(?:\s*\([^()]{1,30}\))?(?:\s*(?:,|and|or)\s*)?)+)", re.IGNORECASE)
_PORT = re.compile(r"(\d{2,5})(?:\s*\(([^()]{1,30})\))?")
_APPOSITIVE = re.compile(r"^\s*,\s*(?:the|a|an)\s+([A-Za-z][\w\- ]{1,40}?)\s+(of|in|at|for)\s*$")
_SUBJECT_CARRY = re.compile(r"^\s*(?:,\s*)?(?:and|but|,)\s+", re.IGNORECASE)
_WHO = re.compile(r"^\s*,?\s*(?:who|which|that)\s+", re.IGNORECASE)
_LIST_SEP = re.compile(r"^\s*(?:,\s*(?:and\s+|or\s+)?|and\s+|or\s+)$")
_SUBORD = re.compile(
    r"^\s*,?\s*(?:while|when|after|before|because|as|since|until|where)\s+(?:he|she|it|they)\s+", re.IGNORECASE
)
_ADVERB = re.compile(
    r"^(?:later|also|then|first|subsequently|eventually|originally|previously|still|currently|now|generally|"
    r"usually|typically|mainly|mostly|primarily|officially|widely|actively|fully|natively|already)\s+"
)
_NP_OBJECT = re.compile(
    r"^\s+(?:(?:later|also|then|first)\s+)?([a-z]+(?:ed|es|s))\s+(?:the\s+|a\s+|an\s+)?"
    r"([a-z][a-z\-]*(?:\s+(?:of\s+|in\s+|for\s+)?[a-z][a-z\-]*){0,4}?)(?=\s*(?:[,.;:!?]|$))"
)
_NOT_VERBS = {"is", "was", "has", "does", "this", "his", "its", "as", "us", "thus", "plus", "whereas"}


def _strip_lead(text: str, start: int) -> tuple[str, int]:
    words = text.split(" ")
    while words and words[0].lower().strip(".,") in _LEAD_WORDS and len(words) > 1:
        start += len(words[0]) + 1
        words = words[1:]
    if words and words[0].lower().strip(".,") in _LEAD_WORDS:
        return "", start
    return " ".join(words), start


def _mentions(
    sentence: str, known: re.Pattern[str] | None = None, common: frozenset[str] | set[str] = frozenset()
) -> list[tuple[int, int, str]]:
    """Names in a sentence: the document's own names (`known`, any case they are written in: "libjpeg-turbo",
    "zstd"), then capitalised phrases, less a capitalised common word that only opens the sentence
    ("Note", "Included": the document writes them in lowercase elsewhere)."""
    out: list[tuple[int, int, str]] = []
    if known is not None:
        out = [(m.start(), m.end(), m.group(0)) for m in known.finditer(sentence)]
    taken = [(a, b) for a, b, _ in out]
    for m in _MENTION.finditer(sentence):
        text, start = _strip_lead(m.group(0), m.start())
        text = text.rstrip(".’'")
        if text.endswith("'s") or text.endswith("’s"):
            text = text[:-2]
        if not text or (len(text) == 1 and not text.isdigit()):
            continue
        end = start + len(text)
        if any(a < end and start < b for a, b in taken):
            continue
        if re.fullmatch(r"[A-Z][\w]*-[a-z]+", text):
            continue  # "MMX-accelerated", "BSD-style": an adjective, not a name
        if re.fullmatch(r"[A-Z][a-z]+", text) and not sentence[:start].strip():
            after = sentence[end:].split(None, 1)
            verb_next = bool(after) and after[0] in {"is", "was", "are", "were", "has", "have", "had"}
            function_next = bool(after) and after[0] in _FUNCTION_WORDS
            participle = text.endswith(("ed", "ing")) and len(text) > 4 and not verb_next
            if text.lower() in common or participle or function_next:
                continue  # "Note that ...", "Not all ...", "Included tools are", "Assuming you ...": no names
        out.append((start, end, text))
    out.sort()
    # "The Java interface for X is ...": a name and the one plain noun after it name the subject
    the = re.match(r"\s*The\s+$", sentence[: out[0][0]]) if out else None
    head = re.match(r"\s+([a-z]{3,})\s+(?=[a-z])", sentence[out[0][1] :]) if the else None
    if head and head.group(1) not in _NOT_HEADS and not re.search(r"(?:s|ed|ly)$", head.group(1)):
        start, end, text = out[0]
        out[0] = (start, end + head.end(1), f"{text} {head.group(1)}")
    return out


def known_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern for a document's own names as whole words, as written and capitalised ("zstd", "Zstd")."""
    forms = {f for n in names if len(n) >= 2 for f in (n, n[:1].upper() + n[1:])}
    if not forms:
        return None
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(
        rf"(?<![\w\-/.])(?:{alternatives})(?:/[A-Za-z][\w\-]*|\s+v?\d+(?:\.\d+)*[a-z]?\+?(?=[\s,.;:)]|$))?"
        rf"(?![\w\-/]|\.\w)"
    )


def common_words(text: str) -> frozenset[str]:
    """The words a text writes in lowercase: a capitalised one of these opening a sentence is no name."""
    return frozenset(re.findall(r"(?<![\w\-])[a-z][a-z]+(?![\w\-])", text))


def guess_type(name: str) -> str:
    """PERSON, ORG, PLACE, DATE or ENTITY from the shape of a name (org/place words, years, acronyms)."""
    if re.fullmatch(r"1\d{3}|20\d{2}", name) or _MONTH_DATE.match(name):
        return "DATE"
    words = name.lower().split()
    if words and (words[-1] in _ORG_WORDS or words[0] in {"university", "institute", "bank", "ministry"}):
        return "ORG"
    if words and (words[-1] in _PLACE_WORDS or words[0] in {"mount", "lake", "river"}):
        return "PLACE"
    if name.isupper() and len(name) <= 6:
        return "ORG"
    return "ENTITY"


def _relation(middle: str) -> str | None:
    """Normalise the words between two mentions into a relation, or None when it is not one."""
    if re.match(r"^\s*,\s*(?:a|an|the)\s", middle):
        return None  # an apposition ("X, a Ubuntu-based system with Y"): what X is, not how X relates to Y
    rel = " ".join(middle.split()).strip(" ,;:")
    possessive = bool(re.match(r"^['’]s\s", rel))
    if possessive:  # "Google's parent company is Alphabet" -> parent company
        rel = re.sub(r"\s+(?:is|was|are|were)$", "", rel[3:])
    rel = _WHO.sub("", rel)
    rel = _SUBORD.sub("", rel)
    rel = _SUBJECT_CARRY.sub("", rel)
    if not rel or len(rel.split()) > 7 or re.search(r"[;:()\"“”]", rel) or "," in rel:
        return None
    if re.search(r"\b(?:that|which|who|whom|whose|where|when|while|if|because)\b", rel, re.IGNORECASE):
        return None  # a clause boundary inside: half a sentence, not a relation
    if not possessive and not _VERBISH.search(rel):
        return None
    if rel.lower() in {"and", "or", "of", "in", "as", "is", "was", "s"}:
        return None
    # "is a compact codec supported natively by": what Y is to X is the participle's, not the noun phrase's
    rel = re.sub(r"^(?:is|are|was|were)\s+(?:a|an|the)\s+(?:[\w-]+\s+){1,4}?(?=[a-z]+(?:ed|en|wn)\b)", "", rel)
    rel = _AUX.sub("", rel + " ").strip() or rel
    rel = _ADVERB.sub("", rel)
    rel = _DET.sub("", rel)
    rel = re.sub(r"\s+(?:the|a|an)$", "", rel, flags=re.IGNORECASE).lower()
    return rel if rel and rel not in {"a", "an", "the"} else None


def _type_from_relation(rel: str, subj_type: str, obj_type: str) -> tuple[str, str]:
    if subj_type == "ENTITY" and _PERSON_REL.match(rel):
        subj_type = "PERSON"
    if obj_type == "ENTITY" and re.match(
        r"^(?:works?|worked|stud(?:y|ies|ied)|employed|professor|student|teach\w*)\s+(?:at|for)$", rel
    ):
        obj_type = "ORG"
    if obj_type == "ENTITY" and _PLACE_REL.search(rel) and not rel.startswith(("married", "son", "daughter")):
        obj_type = "PLACE"
    if rel.startswith(("capital of", "city in", "located in")):
        subj_type = "PLACE" if subj_type == "ENTITY" else subj_type
        obj_type = "PLACE" if obj_type == "ENTITY" else obj_type
    if obj_type == "ENTITY" and _BY_REL.search(rel):
        obj_type = "PERSON"
    if rel.startswith(("wrote", "directed", "published", "composed", "painted")) and obj_type == "ENTITY":
        subj_type, obj_type = ("PERSON" if subj_type == "ENTITY" else subj_type), "WORK"
    return subj_type, obj_type


def _relative_clause(sent: str, at: int, mentions: list[tuple[int, int, str]]) -> tuple[str, str] | None:
    """(relation, name) for "the processor that later powered the Aurora AX-7": the clause's verb relates
    the noun phrase's owner to the next name, when only the clause stands between them."""
    nxt = next((m for m in mentions if m[0] >= at), None)
    if nxt is None:
        return None
    clause = _RELATIVE.fullmatch(sent[at : nxt[0]])
    if clause is None or clause.group(1).lower() in _NOT_VERBS:
        return None
    return " ".join(w for w in clause.group(1, 2) if w), nxt[2]


def _participle(sent: str, at: int, mentions: list[tuple[int, int, str]]) -> tuple[str, list[str]] | None:
    """(relation, names) for ", provided by Huff0 and FSE" right after a noun phrase ending at `at`."""
    m = _PARTICIPLE.match(sent, at)
    if m is None:
        return None
    names: list[tuple[int, int, str]] = []
    pos = m.end()
    for n in mentions:
        if n[0] < pos:
            continue
        if n[0] != pos and not (names and _LIST_SEP.match(sent[pos : n[0]])):
            break
        names.append(n)
        pos = n[1]
    return (f"{m.group(1)} {m.group(2)}", [n[2] for n in names]) if names else None


class SentenceExtractor:
    """Rule-based triple extraction for English prose; no model, no network."""

    name = "offline"

    def __init__(self, settings: KGSettings) -> None:
        self.settings = settings

    def extract(self, chunk: Chunk, names: Iterable[str] = (), subject: str | None = None) -> list[Triple]:
        """The facts the sentences of a chunk state. `names` are the document's own names (mentions even in
        lowercase); `subject` is who "it" is in a sentence that opens the chunk with a pronoun."""
        text = chunk.text
        known = known_pattern(names)
        common = common_words(text)
        triples: list[Triple] = []
        seen: set[tuple[str, str, str]] = set()
        last_subject: tuple[str, str] | None = None

        def emit(s: str, st: str, r: str, o: str, ot: str, span: tuple[int, int]) -> None:
            if not s or not o or s == o or (s, r, o) in seen:
                return
            if max(len(s), len(r), len(o)) > self.settings.max_field_chars:
                return
            if len(triples) >= self.settings.max_triples_per_chunk:
                return
            st, ot = _type_from_relation(r, st, ot)
            seen.add((s, r, o))
            triples.append(Triple.found((s, r, o), (st, ot), chunk, span, self.name))

        full_names: dict[str, str] = {}  # "Newton" -> "Isaac Newton", within this chunk
        for a, b in sentences(text):
            sent = text[a:b]
            mentions = []
            for m in _mentions(sent, known, common):
                name = m[2]
                if " " in name and guess_type(name) == "ENTITY" and len(name.split()) <= 4:
                    full_names.setdefault(name.split()[-1], name)
                elif " " not in name and name in full_names:
                    name = full_names[name]
                mentions.append((m[0], m[1], name))
            # A sentence opening with a pronoun continues the previous sentence's subject.
            itself = _THE_THING.match(sent)
            if itself and subject and not any(m[0] < itself.end() for m in mentions):
                mentions.insert(0, (itself.start(1), itself.end(), subject))  # "The machine ships with ..."
            lead = re.match(r"\s*(\w+)(?:['’]s)?\s", sent)
            if lead and lead.group(1).lower() in _PRONOUNS and not last_subject and subject:
                last_subject = (subject, guess_type(subject))
            if lead and lead.group(1).lower() in _PRONOUNS and last_subject:
                mentions.insert(0, (lead.start(1), lead.end(1), last_subject[0]))
                pronoun_subject = True
            else:
                pronoun_subject = False
            if not mentions:
                continue
            subj0 = mentions[0][2]
            subj0_type = last_subject[1] if pronoun_subject and last_subject else guess_type(subj0)
            last_subject = (subj0, subj0_type)
            # "The Java interface for libjpeg-turbo is written ...": the name after "for"/"of" only says which.
            if (
                len(mentions) > 1
                and re.fullmatch(r"\s+(?:for|of)\s+", sent[mentions[0][1] : mentions[1][0]])
                and re.match(r"\s+(?:is|are|was|were|has|have|had)\b", sent[mentions[1][1] :])
            ):
                mentions = [(mentions[0][0], mentions[1][1], mentions[0][2]), *mentions[2:]]
            # "X, or Y as short version, is ...": the aside names X again; what follows it is about X.
            aside = _ASIDE.match(sent[mentions[0][1] :])
            if aside:
                end = mentions[0][1] + aside.end()
                mentions = [mentions[0], *(m for m in mentions[1:] if m[0] >= end)]
            # "A and B founded C": the leading coordinated mentions share the subject role.
            group = 1
            while (
                not aside
                and group < len(mentions)
                and _LIST_SEP.match(sent[mentions[group - 1][1] : mentions[group][0]])
            ):
                group += 1
            subjects = [(m[2], subj0_type if j == 0 else guess_type(m[2])) for j, m in enumerate(mentions[:group])]
            subj_end = mentions[group - 1][1]
            verb_at = subj_end + (aside.end() if aside else 0)
            # "X is a Y" with a common-noun Y.
            cop = _COPULA_NP.match(sent[verb_at:])
            if cop:
                det, np = cop.group(1), cop.group(2)
                rel = "is a" if det in ("a", "an") else "is the"
                np_end = verb_at + cop.end()
                # a name after a preposition in it, or right after it: "the capital of Germany" is a relation to
                # Germany; a name that only modifies it ("a JPEG image codec") is part of it
                prep = re.search(r"\s(?:of|in|at|for|within|on|from|to)\s", np)
                named_from = verb_at + cop.start(2) + (prep.start() if prep else len(np))
                named = any(named_from <= m[0] <= np_end + 4 for m in mentions)
                follows = sent[np_end:].lstrip()
                if follows.startswith("of ") and subject and _THIS_PROJECT.match(follows) and not named:
                    for sj, st in subjects:  # "make is the build system of this project"
                        emit(subject, guess_type(subject), np, sj, st, (a, b))
                elif not (named or follows.startswith("of ")):
                    for sj, st in subjects:
                        emit(sj, st, rel, np, "CONCEPT", (a, b))
                    that = _THAT_OBJECT.match(follows)
                    if that:
                        for sj, st in subjects:
                            emit(sj, st, that.group(1), that.group(2), guess_type(that.group(2)), (a, b))
                    clause = _relative_clause(sent, np_end, mentions)
                    if clause:
                        for sj, st in subjects:
                            emit(sj, st, clause[0], clause[1], guess_type(clause[1]), (a, b))
            passive = _PASSIVE_NP.match(sent[verb_at:])
            if passive and not any(verb_at < m[0] < verb_at + passive.end() for m in mentions):
                rel = " ".join(w for w in passive.group(1, 2, 3) if w)
                for sj, st in subjects:
                    emit(sj, st, rel, passive.group(4), "CONCEPT", (a, b))
                by = _participle(sent, verb_at + passive.end(), mentions)
                for name in by[1] if by else []:
                    emit(passive.group(4), "CONCEPT", by[0], name, guess_type(name), (a, b))  # type: ignore[index]
            for m in mentions:
                app_np = _APPOSITIVE_NP.match(sent[m[1] :])
                if app_np is None:
                    continue
                np_end = m[1] + app_np.end()
                nxt = next((n for n in mentions if n[0] > m[1]), None)
                link = sent[np_end : nxt[0]] if nxt else ""
                if nxt and (nxt[0] < np_end or re.fullmatch(r"\s+(?:of|in|at|for|on)\s+", link)):
                    continue  # "Canberra, the capital of Australia": a relation to the name, said elsewhere
                rel = "is a" if app_np.group(1) in ("a", "an") else "is the"
                emit(m[2], guess_type(m[2]), rel, app_np.group(2), "CONCEPT", (a, b))
                if nxt and re.fullmatch(r"\s+(?:by|from)\s+", link):  # "lzbench, a benchmark by @inikep"
                    emit(m[2], guess_type(m[2]), link.strip(), nxt[2], guess_type(nxt[2]), (a, b))
                clause = _relative_clause(sent, np_end, mentions)
                if clause:
                    emit(m[2], guess_type(m[2]), clause[0], clause[1], guess_type(clause[1]), (a, b))
            if subject and _PART_OF_THIS.search(sent[subj_end:]):
                for sj, st in subjects:
                    if sj != subject:
                        emit(subject, guess_type(subject), "includes", sj, st, (a, b))
            the_np = _THE_NP_IS.match(sent[: mentions[0][0]])
            if subject and the_np and re.match(r"\s*(?:[,.;:]|$)", sent[mentions[0][1] :]):
                emit(subject, guess_type(subject), the_np.group(1), mentions[0][2], guess_type(mentions[0][2]), (a, b))
            for ports in _PORTS.finditer(sent):
                before = [m for m in mentions if m[1] <= ports.start()]
                owner = before[0][2] if before else (last_subject[0] if last_subject else subject)
                for port in _PORT.finditer(ports.group(1)):
                    qualifier = (port.group(2) or "").strip().lower()
                    rel = f"{qualifier} port" if qualifier and len(qualifier.split()) <= 3 else "port"
                    if owner:
                        emit(owner, guess_type(owner), rel, port.group(1), "QUANTITY", (a, b))
            # "X developed the theory of relativity": a verb and a lowercase noun phrase to the clause end.
            obj = _NP_OBJECT.match(sent[verb_at:])
            verb_np = obj is not None and obj.group(1) not in _NOT_VERBS
            if obj and verb_np and not any(verb_at < m[0] < verb_at + obj.end() for m in mentions):
                for sj, st in subjects:
                    emit(sj, st, obj.group(1), obj.group(2), "CONCEPT", (a, b))
            last: tuple[list[tuple[str, str]], str] | None = None  # subjects and relation of the last fact
            for i in range(group, len(mentions)):
                prev, cur = mentions[i - 1], mentions[i]
                middle = sent[verb_at if aside and i == group else prev[1] : cur[0]]
                if last is not None and _LIST_SEP.match(middle):  # "... by A, B and C"
                    for sj, st in last[0]:
                        emit(sj, st, last[1], cur[2], guess_type(cur[2]), (a, b))
                    continue
                app = _APPOSITIVE.match(middle)
                if app:
                    rel = f"{app.group(1).strip()} {app.group(2)}"
                    emit(prev[2], guess_type(prev[2]), rel, cur[2], guess_type(cur[2]), (a, b))
                    last = ([(prev[2], guess_type(prev[2]))], rel)
                    continue
                found = _relation(middle)
                if found is None:
                    last = None
                    continue
                rel = found
                carry = (
                    i > group
                    and (_SUBJECT_CARRY.match(middle) or re.match(r"^\s*,", middle) or _SUBORD.match(middle))
                    and not _WHO.match(middle)
                )
                subs = subjects if i == group or carry else [(prev[2], guess_type(prev[2]))]
                for sj, st in subs:
                    emit(sj, st, rel, cur[2], guess_type(cur[2]), (a, b))
                last = (subs, rel)
        return triples
