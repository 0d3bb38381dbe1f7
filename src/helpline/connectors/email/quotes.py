"""Separate what the customer just wrote from the history they quoted and their signature.

Heuristics over lines, the way mail clients lay replies out: an attribution line ("On … wrote:",
in the languages customers write in), an Outlook header block or "Original Message" rule, a
trailing run of ``>`` lines; then, in what is left, a signature after ``-- ``, a "Sent from my …"
line, a closing ("Thanks,") or the sender's own name followed by a few short lines, a legal
footer. Inline replies keep every answer with its question, and forwards are shown whole.
The original is always kept; this only decides what is shown first, and every rule leans to
showing: hiding a line the customer wrote costs more than showing some quote. Measured on
bench/data/quotes (bench/email_quotes.py --cases); the choices are in docs/email.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Verbs that end an attribution; German, Polish and Czech clients may put the name after them
# ("Am 23.11.26 um 09:00 schrieb Anna Muster:", "W dniu …, Anna pisze:").
_NAME_AFTER = r"(?:schrieb|schreef|pisze|napisał(?:\(a\)|a)?|napsal)(?:\s+[^:]{1,80})?"
_ATTRIBUTION = re.compile(
    r"^\s*(?:>\s*)?(?:on|am|le|el|em|op|il|den|på|w dniu|dne|в|el día)\b.{0,300}?"
    r"(?:wrote|writes|a écrit|a ecrit|escribió|escribio|escreveu|schreef|ha scritto|"
    r"het volgende geschreven|skrev|написал|написала|kirjoitti|" + _NAME_AFTER + r")\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ATTRIBUTION_LOOSE = re.compile(
    r"^.{0,300}?(?:wrote|a écrit|escribió|escreveu|schreef|ha scritto|skrev|написал|написала|"
    r"kirjoitti|寫道|写道|書きました|(?:wrote|schrieb) (?:on|am) .{4,60}?|" + _NAME_AFTER + r")"
    r"\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
# A real attribution carries a date, a time or an address; "Your colleague wrote:" in the
# customer's own text does not (it counts only when ">" lines follow it).
_ATTRIBUTION_HINT = re.compile(r"@|\d{1,2}[:.h]\d{2}|\b(?:19|20)\d{2}\b|\d{1,2}/\d{1,2}/\d{2}")
# Yahoo on Android squashes the attribution and the first quoted line onto one line.
_ATTRIBUTION_INLINE = re.compile(r"^\s*on\b.{0,200}<[^<>@\s]+@[^<>\s]+>\s*wrote:\s{2,}\S", re.I)
# Other clients' attribution lines: Mutt ("* Name <addr> [date]:"), Horde ("Zitat von Name
# <addr>:", "Quoting …"), Zoho ("---- On … wrote ----"), GroupWise (">>> Name <addr> date >>>").
_ATTRIBUTION_OTHER = re.compile(
    r"^\s*(?:\*\s.{1,120}@.{1,120}\[[^\]]{4,40}\]\s*:|"
    r"(?:zitat von|quoting|citando|citation de|cytuję)\s.{1,200}@.{1,100}:|"
    r"-{2,}\s*(?:on|am|le|el|em|op|il)\b.{1,200}(?:wrote|schrieb|a écrit|"
    r"escribió|escreveu|schreef|ha scritto)\s*-{2,}|>>>\s.{1,200}\s>>>)\s*$",
    re.IGNORECASE,
)
# "Original Message" without dashes, right above a header block (BlackBerry, some webmails).
_ORIGINAL_LABEL = re.compile(
    r"^\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original|"
    r"messaggio originale|mensagem original|oorspronkelijk bericht)\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|oorspronkelijk bericht|messaggio originale|mensagem original|"
    r"wiadomość oryginalna|original meddelande|originalnachricht|reply message)\s*-{2,}|"
    r"_{10,}|-{5,}\s*$)",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(?:from|von|de|van|da|från|od|от)\s*:\*?\s", re.IGNORECASE)
_SUBJECT_KEYS = r"subject|betreff|objet|asunto|onderwerp|oggetto|assunto|temat|ämne|emne|předmět"
_HEADER_OTHER = re.compile(
    r"^\s*\*?(?:sent|date|to|cc|gesendet|datum|an|envoyé|à|enviado el|enviado|enviada|para|"
    r"fecha|verzonden|aan|inviato|a|data|wysłane|wysłano|do|skickat|till|sendt|til|kopie|"
    + _SUBJECT_KEYS
    + r")\s*:",
    re.IGNORECASE,
)
_HEADER_SUBJECT = re.compile(r"^\s*\*?(?:" + _SUBJECT_KEYS + r")\s*:", re.IGNORECASE)
_SIG_DELIMITER = re.compile(r"^\s*(?:--\s?|—|-{2,}|_{2,}|={2,})\s*$")
_SIG_DASHES = re.compile(r"^\s*--\s?$")
_SENT_FROM = re.compile(
    r"^\s*(?:sent from (?:my )?\S+|sent from mail for windows|get outlook for \S+|"
    r"outlook (?:voor|für|pour|para|per|dla) \S+ |"
    r"(?:obtenir|obtener|scarica|baixe o|obter o|pobierz) outlook|"
    r"sent from yahoo mail|sent via |envoyé (?:de|depuis) mon|von meinem [^\n]{1,40}gesendet|"
    r"gesendet von meinem|enviado desde mi|enviado (?:do|de) meu|inviato da|"
    r"verstuurd (?:vanaf|met) |verzonden (?:vanaf|met) |wysłane z |odesláno z |"
    r"skickat från |sendt fra )",
    re.IGNORECASE,
)
_CLOSINGS = (
    r"(?:thanks|thank you|many thanks|thanks again|thanks so much|thx|best|best regards|"
    r"kind regards|warm regards|regards|cheers|sincerely|yours sincerely|best wishes|"
    r"all the best|br|thanks a lot|thank you very much|thanks in advance|"
    r"thank you in advance|many thanks in advance|danke im voraus|vielen dank im voraus|"
    r"gracias de antemano|grazie in anticipo|bij voorbaat dank|z góry dziękuję|"
    r"mit freundlichen grüßen|mit freundlichen grüssen|freundliche grüße|viele grüße|"
    r"liebe grüße|beste grüße|herzliche grüße|schöne grüße|grüße|gruß|gruss|lg|mfg|vg|"
    r"cordialement|bien cordialement|bien à vous|salutations|merci|merci beaucoup|"
    r"merci d'avance|merci par avance|"
    r"saludos|saludos cordiales|un saludo|atentamente|gracias|muchas gracias|"
    r"met vriendelijke groet|met vriendelijke groeten|vriendelijke groet|hartelijke groet|"
    r"groetjes|groeten|groet|mvg|cordiali saluti|distinti saluti|saluti|un saluto|grazie|"
    r"grazie mille|obrigado|obrigada|atenciosamente|cumprimentos|abraços|att|"
    r"pozdrawiam|z poważaniem|pozdrowienia|dziękuję|med vänliga hälsningar|"
    r"vänliga hälsningar|hälsningar|mvh|med venlig hilsen|venlig hilsen)\b"
)
# One closing, or two in two languages ("Best regards / Mit freundlichen Grüßen").
_CLOSING = re.compile(
    r"^\s*" + _CLOSINGS + r"(?:\s*/\s*" + _CLOSINGS + r"|\s+(?:aus|from|desde|uit|z)"
    r"\s+\w+(?:\s\w+)?)?[\s,.!\-]*$",
    re.IGNORECASE,
)
# A postscript after the sign-off is new text: the sign-off is then not split off.
_POSTSCRIPT = re.compile(r"^\s*p\.?\s?p?\.?s\.?\s*[:\-.]", re.IGNORECASE)
# A legal footer at the end of the new text: a paragraph with one of these phrases, or one that
# says "confidential" and names a recipient/privilege (a lone "please keep this confidential"
# in the customer's text is not one).
_DISCLAIMER = re.compile(
    r"intended (?:solely |only )?(?:for )?(?:the )?(?:named )?(?:recipient|addressee|use)|"
    r"(?:received|receive) this (?:e-?mail|message|communication|transmission) (?:in error|by "
    r"mistake)|confidentiality notice|\bdisclaimer\b|before printing this|think before you "
    r"print|registered (?:in england|office)|company (?:registration )?(?:no|number)\b|"
    r"irrtümlich erhalten|nicht der (?:richtige|beabsichtigte) (?:adressat|empfänger)|"
    r"sitz der gesellschaft|registergericht|handelsregister|amtsgericht|\bhrb \d|ust-?idnr|"
    r"reçu ce (?:message|courriel|mail|e-mail) par erreur|recibido este (?:mensaje|correo) por "
    r"error|ricevuto (?:questo|il presente) (?:messaggio|e-?mail) per errore|"
    r"dit bericht (?:onterecht|per abuis|ten onrechte)|otrzymali (?:Pan|Pani|Państwo) tę wiadomość",
    re.IGNORECASE,
)
_FOOTER_OPENING = re.compile(
    r"^\W*(?:confidential|disclaimer|legal notice|important|notice|privileged|"
    r"this (?:e-?mail|message|communication|transmission)|the (?:information|contents?) "
    r"(?:contained )?(?:in|of) this|diese (?:e-?mail|nachricht)|ce (?:message|courriel|mail)|"
    r"este (?:mensaje|correo|e-?mail)|esta mensagem|questo messaggio|il presente messaggio|"
    r"dit (?:e-?mail)?bericht|de informatie|ta wiadomość)",
    re.IGNORECASE,
)
_CONFIDENTIAL = re.compile(
    r"confidential|vertraulich|confidentiel|confidencial|riservat|vertrouwelijk|poufn|"
    r"konfidentiell|fortrolig",
    re.IGNORECASE,
)
_RECIPIENT = re.compile(
    r"recipient|addressee|privileged|adressat|empfänger|destinataire|destinatari|geadresseerde|"
    r"adresat|mottagare|modtager",
    re.IGNORECASE,
)
_FORWARD_MARK = re.compile(
    r"^\s*(?:-{3,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré|"
    r"mensaje reenviado|doorgestuurd bericht|messaggio inoltrato|mensagem encaminhada|"
    r"wiadomość przekazana|vidarebefordrat meddelande|videresendt meddelelse)\s*-{3,}|"
    r"begin forwarded message:|anfang der weitergeleiteten nachricht:|"
    r"début du message (?:réexpédié|transféré)\s*:|inicio del mensaje reenviado:|"
    r"begin doorgestuurd bericht:|inizio messaggio inoltrato:|"
    r"início da mensagem (?:reencaminhada|encaminhada):)",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)*(?:fwd?|wg|tr|rv|i|pd|enc|doorst|vs|vb|vl|wd)\s*:", re.IGNORECASE
)
_SHORT = 60
_MAX_SIGNATURE_LINES = 15


@dataclass(frozen=True)
class SplitText:
    new: str
    quoted: str
    signature: str

    @property
    def reply_with_signature(self) -> str:
        return "\n\n".join(p for p in (self.new, self.signature) if p)


def _next_is_quoted(lines: list[str], start: int) -> bool:
    for line in lines[start : start + 3]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def _header_block(lines: list[str], i: int) -> bool:
    """An Outlook/GMX/Windows Mail header block starts at ``i``: three or more header lines
    before a blank one, a sender among them, and a subject or an address (so "From: London /
    To: Paris / Date: 12 Dec" in a customer's own text is not taken for one)."""
    keys = others = 0
    has_from = strong = False
    # Blank lines may sit between the headers (text made from Outlook's HTML) and one wrapped
    # recipient line may too; the block ends at the second line that is not a header.
    for line in lines[i : i + 12]:
        if not line.strip():
            continue
        if _HEADER_FROM.match(line):
            has_from = True
            keys += 1
        elif _HEADER_OTHER.match(line):
            keys += 1
            strong = strong or bool(_HEADER_SUBJECT.match(line))
        else:
            others += 1
            if others == 2:
                break
        strong = strong or "@" in line
    return keys >= 3 and has_from and strong


def _quote_start(lines: list[str]) -> int | None:
    parts = [x.strip() for x in lines]
    for i, line in enumerate(lines):
        stripped = parts[i]
        if not stripped:
            continue
        for span in (1, 2, 3):
            if i + span > len(lines) or (span > 1 and lines[i + span - 1].startswith(">")):
                continue
            window = parts[i : i + span]
            # Both attribution patterns end in ":": only a window whose last line ends with
            # ":" can match (the regexes are the costly part). A wrapped attribution has no
            # blank line inside and its first line does not end a sentence.
            if not window[-1].endswith(":"):
                continue
            if span > 1 and (not all(window) or window[0][-1] in ".!?"):
                continue
            joined = " ".join(window)
            if (_ATTRIBUTION.match(joined) or _ATTRIBUTION_LOOSE.match(joined)) and (
                _ATTRIBUTION_HINT.search(window[0]) or (span == 1 and _next_is_quoted(lines, i + 1))
            ):
                return i
        if _ATTRIBUTION_INLINE.match(stripped) and any(x.strip() for x in lines[:i]):
            return i
        if stripped[0] in "*-zZqQcC>" and _ATTRIBUTION_OTHER.match(stripped):
            return i
        if _RULE.match(line):
            following = [x for x in lines[i + 1 : i + 4] if x.strip()]
            if (
                "original" in line.lower()
                or "nachricht" in line.lower()
                or "origine" in line.lower()
            ):
                return i
            if following and _HEADER_FROM.match(following[0]):
                return i
        if (
            ":" in line[:30]
            and (_HEADER_FROM.match(line) or _HEADER_OTHER.match(line))
            and _header_block(lines, i)
        ):
            above = next((k for k in range(i - 1, max(-1, i - 3), -1) if lines[k].strip()), None)
            if above is not None and _ORIGINAL_LABEL.match(lines[above]):
                return above
            return i
    # A trailing run of ">" lines (blank lines allowed inside) with nothing new after it.
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and (lines[start - 1].lstrip().startswith(">") or not lines[start - 1].strip()):
        start -= 1
    while start < end and not lines[start].strip():
        start += 1
    if start < end and lines[start].lstrip().startswith(">"):
        return start
    return None


def _name_tokens(sender_name: str, sender_email: str) -> set[str]:
    tokens = {t.lower() for t in re.split(r"[\s,.\"']+", sender_name) if len(t) >= 2}
    local = sender_email.split("@", 1)[0].lower()
    tokens |= {t for t in re.split(r"[._\-+]", local) if len(t) >= 3}
    return tokens


def _disclaimer_start(lines: list[str]) -> int | None:
    """First line of the legal-footer paragraphs that end ``lines`` (None: there are none)."""
    start: int | None = None
    i = len(lines)
    while i > 0:
        while i > 0 and not lines[i - 1].strip():
            i -= 1
        j = i
        while j > 0 and lines[j - 1].strip():
            j -= 1
        if j == i:
            break
        paragraph = " ".join(lines[j:i])
        if not (
            _DISCLAIMER.search(paragraph)
            or (_CONFIDENTIAL.search(paragraph) and _RECIPIENT.search(paragraph))
        ):
            break
        start = i = j
    if start is not None and any(x.strip() for x in lines[:start]):
        return start
    return None


def _signature_start(lines: list[str], sender_name: str, sender_email: str) -> int | None:
    footer = _disclaimer_start(lines)
    if footer is not None:
        # The signature above a legal footer; the footer alone when there is none.
        above = lines[:footer]
        while above and not above[-1].strip():
            above.pop()
        found = _signature_start(above, sender_name, sender_email)
        if found is not None:
            return found
        head = lines[footer : footer + 3]
        tokens = _name_tokens(sender_name, sender_email)
        if _FOOTER_OPENING.match(lines[footer]) or any(
            _CLOSING.match(x) or _is_name_line(x.strip(), tokens) for x in head
        ):
            return footer
        # Legal words in a paragraph that neither follows a signature nor opens like a
        # footer ("she is not the intended recipient of …"): the customer's own text.
    n = len(lines)
    floor = max(1, n - 30)
    rules = [i for i in range(n - 1, floor - 1, -1) if _SIG_DELIMITER.match(lines[i])]
    for i in rules:
        # "-- " always; a longer rule only when it is the only one (two are the customer's
        # own separators, e.g. around an order summary).
        if (len(rules) == 1 or _SIG_DASHES.match(lines[i])) and any(x.strip() for x in lines[:i]):
            return i
    for i in range(n - 1, floor - 1, -1):
        if _SENT_FROM.match(lines[i]):
            # A sign-off or the sender's name right above "Sent from my …" belongs to it.
            above = lines[:i]
            while above and not above[-1].strip():
                above.pop()
            found = _closing_start(above, sender_name, sender_email) if above else None
            return i if found is None or i - found > 6 else found
    return _closing_start(lines, sender_name, sender_email)


def _is_name_line(line: str, tokens: set[str]) -> bool:
    """The sender's name on a line of its own; a sentence that names them ("Her name is Laura
    Keller.": two or more lower-case words) is not one."""
    if not tokens or len(line) > 40:
        return False
    raw_words = [w for w in re.split(r"[\s,.\"'#]+", line) if w]
    return bool({w.lower() for w in raw_words} & tokens) and (
        sum(len(w) >= 2 and w[0].islower() for w in raw_words) < 2
    )


def _after_colon(lines: list[str], i: int) -> bool:
    """The line before ``i`` (blank lines skipped) introduces it ("Please deliver to:")."""
    for k in range(i - 1, max(-1, i - 4), -1):
        if lines[k].strip():
            return lines[k].rstrip().endswith(":")
    return False


def _closing_start(lines: list[str], sender_name: str, sender_email: str) -> int | None:
    """A closing ("Thanks,") or the sender's name followed by a few short lines at the end."""
    n = len(lines)
    # Walk up from the bottom over short lines; remember the highest closing or name line.
    best: int | None = None
    tokens = _name_tokens(sender_name, sender_email)
    nonblank_after = 0
    for i in range(n - 1, max(0, n - _MAX_SIGNATURE_LINES) - 1, -1):
        line = lines[i].strip()
        if not line:
            continue
        if len(line) > _SHORT:
            break
        if i == 0 or _POSTSCRIPT.match(line):
            break
        nonblank_after += 1
        if _CLOSING.match(line):
            best = i
            break
        if nonblank_after <= 8 and _is_name_line(line, tokens) and not _after_colon(lines, i):
            best = i
    if best is not None and any(x.strip() for x in lines[:best]):
        return best
    return None


def _arrange(
    lines: list[str], q: int, sender_name: str, sender_email: str
) -> tuple[list[str], str, list[str] | None]:
    """(lines to show, quoted text, signature lines or None) for history that starts at ``q``.

    Top-posting: everything from ``q`` is quoted. Bottom-posting (the quote first, then the new
    text): the quote is. Inline replies (answers between ">" lines): the answers need their
    questions, so everything up to the last answer is shown and only the quoted tail (and a
    signature after it) is split off.
    """
    top = any(x.strip() for x in lines[:q])
    # GroupWise's ">>> Name <addr> date >>>" is an attribution, not a quoted line.
    from_line = q + 1 if lines[q].lstrip().startswith(">>> ") else q
    first_gt = next((k for k in range(from_line, min(len(lines), q + 4)) if _is_gt(lines[k])), None)
    if first_gt is None:
        if top:
            return lines[:q], "\n".join(lines[q:]).strip(), None
        return lines, "", None
    new_idx: list[int] = []
    last_gt = first_gt
    for k in range(first_gt, len(lines)):
        if _is_gt(lines[k]):
            last_gt = k
        elif lines[k].strip():
            new_idx.append(k)
    sig_at: int | None = None
    after = [k for k in new_idx if k > last_gt]
    if after and (
        _SIG_DELIMITER.match(lines[after[0]])
        or _SENT_FROM.match(lines[after[0]])
        or _closing_start([".", *lines[after[0] :]], sender_name, sender_email) == 1
    ):
        sig_at = after[0]
        new_idx = [k for k in new_idx if k < sig_at]
    if not new_idx:
        if top:
            return lines[:q], "\n".join(lines[q:]).strip(), None
        return lines, "", None
    gt_between = any(_is_gt(lines[k]) for k in range(new_idx[0], new_idx[-1]))
    if not top and not gt_between:
        # Bottom-posting: the quote first, then the new text (its signature found later).
        return lines[new_idx[0] :], "\n".join(lines[q : new_idx[0]]).strip(), None
    start = 0 if top else first_gt
    end = new_idx[-1] + 1
    tail = lines[end:sig_at] if sig_at is not None else lines[end:]
    quoted = "\n".join(([] if top else lines[q:first_gt]) + tail).strip()
    return lines[start:end], quoted, (lines[sig_at:] if sig_at is not None else None)


def _is_gt(line: str) -> bool:
    return line.lstrip().startswith(">")


def _is_forward(lines: list[str], quote_start: int | None, subject: str) -> bool:
    """The customer forwards a message to support: what they forward is the point, not noise.

    A forward subject ("Fwd:", "FW:", "WG:", "TR:", "RV:", "I:", "PD:", "ENC:", "Doorst:", …;
    a reply to one starts with "Re:" and is not one), or a "Forwarded message" line above the
    first quote: Gmail, Apple Mail and Thunderbird mark forwards so, Outlook only by subject.
    """
    if _FORWARD_SUBJECT.match(subject):
        return True
    end = len(lines) if quote_start is None else quote_start + 1
    return any(_FORWARD_MARK.match(line) for line in lines[:end])


def split_reply(
    text: str, *, sender_name: str = "", sender_email: str = "", subject: str = ""
) -> SplitText:
    """Split ``text`` into (new, quoted, signature); ``new`` is never empty when ``text`` isn't.

    A forward (see ``_is_forward``; pass ``subject`` so Outlook's are recognised) is shown
    whole: nothing of it is folded, not even a signature (its last lines are the forwarded
    message's, not the customer's).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    q = _quote_start(lines)
    if _is_forward(lines, q, subject):
        return SplitText(new=text.strip(), quoted="", signature="")
    quoted = ""
    tail_signature: list[str] | None = None
    if q is None:
        first = next((k for k, line in enumerate(lines) if line.strip()), None)
        if first is not None and lines[first].lstrip().startswith(">"):
            q = first  # a ">" block first, with no attribution: bottom-posted or inline
    if q is not None:
        lines, quoted, tail_signature = _arrange(lines, q, sender_name, sender_email)
    while lines and not lines[-1].strip():
        lines.pop()
    signature = ""
    if tail_signature is not None:
        signature = "\n".join(tail_signature).strip()
    else:
        s = _signature_start(lines, sender_name, sender_email)
        if s is not None:
            signature = "\n".join(lines[s:]).strip()
            lines = lines[:s]
    new = "\n".join(lines).strip()
    if not new:
        return SplitText(new=text.strip(), quoted="", signature="")
    return SplitText(new=new, quoted=quoted, signature=signature)
