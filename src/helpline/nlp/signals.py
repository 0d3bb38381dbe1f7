# ruff: noqa: E501  (pattern tables read best one language per line)
"""Customer-service signals that a general sentiment lexicon misses.

Each signal is a named pattern set across the languages Helpline ships lexicons for, so a
reason shown to an agent reads "repeat contact: 'third time'" rather than a bare score.
Patterns run on accent-folded, lower-cased text (see ``text.fold``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from helpline.nlp.text import fold


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


SIGNALS: dict[str, re.Pattern[str]] = {
    "repeat_contact": _rx(
        r"\b(second|third|fourth|fifth|2nd|3rd|4th|5th|\d+(th)?) time\b",
        r"\b(already|i've|i have) (contacted|written|emailed|called|asked|told)",
        r"\bstill (waiting|no|not|nothing|haven't|hasn't|broken)\b",
        r"\b(again|yet again|once again)\b.{0,40}\b(writ|contact|ask|call|email|chas)",
        r"\bno (one|body) (has )?(replied|answered|got back)|nobody (replied|answered)",
        r"\bhow many times\b|\bfollow(ing)?[- ]up\b|\bchasing\b",
        r"\b(zum )?(zweiten|dritten|vierten) mal\b|\bschon (wieder|mehrfach|zweimal|dreimal)\b",
        r"\bimmer noch\b|\bnoch immer\b|\bbereits (geschrieben|angerufen|kontaktiert)",
        r"\b(deuxieme|troisieme|quatrieme) fois\b|\btoujours (pas|rien|aucun)\b|\bdeja (ecrit|contacte|appele)",
        r"\b(segunda|tercera|cuarta) vez\b|\btodavia no\b|\bsigo (esperando|sin)\b|\bya (he|les) (escrito|llamado)",
        r"\b(tweede|derde|vierde) keer\b|\bnog steeds\b|\bal (twee|drie)? ?keer\b",
        r"\b(seconda|terza|quarta) volta\b|\bancora (niente|nessun|non)\b|\bgia (scritto|chiamato)",
        r"\b(segunda|terceira|quarta) vez\b|\bainda (nao|nada|sem)\b|\bja (escrevi|liguei)",
    ),
    # A threat, not a request: "please cancel my plan" is the cancel_subscription intent.
    "cancel_threat": _rx(
        r"\b(will|going to|gonna|i'?ll|about to|otherwise|or) (cancel|close|terminate|end)\b",
        r"\b(switch|switching|move|moving|go|going) (to|over to) (a |your )?(competitor|another (company|provider|shop))",
        r"\b(never|won'?t) (again )?(order|buy|use|shop)\w* (from|with|here|again)",
        r"\b(i'?m|i am|we'?re|we are) (done|leaving|out)\b|\blost a customer\b|\btaking my business\b",
        r"\b(werde|dann) .{0,30}kundigen\b|\bich kundige!|\bnie wieder\b|\bzur konkurrenz\b",
        r"\bje vais (resilier|partir|annuler)|\bplus jamais\b",
        r"\bvoy a (darme de baja|cancelar)\b|\bnunca mas\b|\bme voy a la competencia",
        r"\bik ga .{0,20}opzeggen\b|\bnooit meer\b",
        r"\b(vado a|voglio) disdire\b.{0,20}!|\bmai piu\b",
        r"\bnunca mais\b|\bvou cancelar\b",
    ),
    "legal_threat": _rx(
        r"\b(lawyer|solicitor|attorney|legal action|sue|suing|court|ombudsman|trading standards|chargeback|small claims)\b",
        r"\b(consumer protection|report you to|regulator)\b",
        r"\b(anwalt|rechtsanwalt|verbraucherzentrale|klage|gericht|rechtliche schritte)\b",
        r"\b(avocat|tribunal|poursuite|plainte)\b",
        r"\b(abogado|demanda|denuncia|tribunal)\b",
        r"\b(advocaat|rechter|juridische stappen)\b",
        r"\b(avvocato|denuncia|tribunale)\b",
        r"\b(advogado|processo judicial|procon)\b",
    ),
    "security": _rx(
        r"\bhack(ed|er|ers)?\b|\bcompromised\b|\bunauthori[sz]ed\b|\bfraud\w*\b|\bscam\w*\b|\bidentity theft\b",
        r"\bsomeone (else )?(logged|is logging|accessed|used|changed)\b|\bnot me\b|\bdidn'?t make (this|these|that)\b",
        r"\bgehackt\b|\bbetrug\b|\bunbefugt\w*\b|\bnicht ich\b",
        r"\bpirate\b|\bfraude\w*\b|\bescroquerie\b|\bpas moi\b",
        r"\bhackead\w*\b|\bno fui yo\b|\bestafa\b",
        r"\bgehackt\b|\boplichting\b",
        r"\bhackerat\w*\b|\btruffa\b",
        r"\bhackead\w*\b|\bgolpe\b|\bnao fui eu\b",
    ),
    "bereavement": _rx(
        r"\b(passed away|died|death of|deceased|funeral|bereavement|late (husband|wife|father|mother))\b",
        r"\b(verstorben|gestorben|todesfall|beerdigung)\b",
        r"\b(deced\w*|mort de|obseques)\b",
        r"\b(fallecid\w*|fallecio|funeral)\b",
        r"\b(overleden|begrafenis)\b",
        r"\b(decedut\w*|morto|funerale)\b",
        r"\b(falecid\w*|faleceu|funeral)\b",
    ),
    "formal_complaint": _rx(
        r"\b(formal|official) complaint\b|\bescalate\b|\bescalation\b|\bcomplaints? (department|procedure)\b",
        r"\b(speak|talk) to (a|your) (manager|supervisor)\b",
        r"\b(formelle|offizielle) beschwerde\b|\bvorgesetzt\w*\b",
        r"\breclamation (officielle|formelle)\b|\bresponsable\b",
        r"\breclamacion (formal|oficial)\b|\b(hablar con|quiero) (un|el|al) (supervisor|encargado|responsable)\b",
        r"\bofficiele klacht\b|\bleidinggevende\b",
        r"\breclamo formale\b|\bresponsabile\b",
        r"\breclamacao formal\b|\bgerente\b",
    ),
    "human_request": _rx(
        r"\b(speak|talk|chat) (to|with) (a |an |some )?(real |actual |live )?(human|person|agent|someone|somebody|representative|manager|supervisor)",
        r"\b(real|actual|live) (human|person|agent)\b|\bnot a (bot|robot|machine)\b|\bstop (the )?bot\b",
        r"\b(call|ring|phone) me( back)?\b|\bcallback\b|\bhuman please\b|\bagent please\b|^\s*(agent|human|operator)\s*[.!]*\s*$",
        r"\b(mit )?(einem|einer) (menschen|mitarbeiter\w*|echten person)\b|\brufen sie mich( bitte)? an\b|\bruckruf\b",
        r"\b(parler|discuter) (a|avec) (un|une) (humain|personne|conseiller|conseillere|agent)\b|\brappelez[- ]moi\b",
        r"\bhablar con (un|una|alguien) ?(humano|persona|agente|real)?\b|\bllamenme\b|\bpersona real\b",
        r"\b(spreken|praten) met een (mens|medewerker|persoon)\b|\bbel (me|mij)( terug)?\b",
        r"\bparlare con (un|una) (operatore|persona|umano)\b|\bchiamatemi\b",
        r"\bfalar com (um|uma|alguem) ?(humano|atendente|pessoa)?\b|\bme liguem\b",
    ),
    "urgent_words": _rx(
        r"\b(urgent|urgently|asap|emergency|immediately|right now|critical|as soon as possible)\b",
        r"\b(is|are|went|site|website|app|service|system|server|everything)\b.{0,15}\b(down|offline|not loading)\b",
        r"\boutage\b|\bcannot (log ?in|access|work)\b|\bcharged (twice|two times|double|three times)\b|\bdouble[- ]charged\b",
        r"\b(dringend|sofort|notfall)\b|\b(ausgefallen|nicht erreichbar|ausfall|storung)\b|\bdoppelt (abgebucht|belastet)\b",
        r"\b(urgent|urgence|immediatement)\b|\b(en panne|hors service|inaccessible)\b|\bdebite deux fois\b",
        r"\b(urgente|inmediato|inmediatamente)\b|\b(caido|caida|no funciona nada)\b|\bcobrado dos veces\b|\bcobraron dos veces\b",
        r"\b(dringend|spoed)\b|\b(ligt plat|storing)\b|\btwee keer (afgeschreven|betaald)\b",
        r"\b(urgente|subito)\b|\b(non funziona piu niente|down)\b|\baddebitato due volte\b",
        r"\b(urgente|imediatamente)\b|\b(fora do ar)\b|\bcobrado duas vezes\b",
    ),
}

SARCASM = _rx(
    r"\b(great|fantastic|wonderful|brilliant|perfect|lovely|awesome|amazing|excellent|nice|super)\b[,.!]* (another|now|so|just|again|thanks)\b.{0,60}\b(not|no|never|wait|nothing|without|broke|broken|lost|late|still|again|charged)",
    r"\bthanks? (a lot |so much )?for nothing\b|\bthanks? for (wasting|ignoring|the runaround)",
    r"\b(yeah|oh) (right|sure|great|wonderful|perfect)\b|\bwhat a (joke|surprise|great service)\b",
    r"\b(love|loving) (how|that|the way) .{0,60}\b(not|never|no|still|again|without|wait)",
    r"\bkeep up the (great|good) work\b.{0,40}\b(not|never|still|again)|\b/s\b|🙄|🤡|🙃",
    r"\bvielen dank (auch|fur nichts)\b|\bganz toll\b|\bsuper gemacht\b.{0,40}\b(nicht|nie|immer noch)",
    r"\bmerci pour rien\b|\bbravo\b.{0,40}\b(pas|jamais|encore|toujours)",
    r"\bgracias por nada\b|\bgenial\b.{0,40}\b(no|nunca|otra vez|todavia)",
    r"\bbedankt voor niets\b|\bgrazie per niente\b|\bobrigado por nada\b",
)


@dataclass(frozen=True)
class Signal:
    name: str
    evidence: str


def find_signals(text: str) -> list[Signal]:
    """Every signal that fires on ``text``, with the matched words as evidence."""
    folded = fold(text)
    found: list[Signal] = []
    for name, pattern in SIGNALS.items():
        match = pattern.search(folded)
        if match:
            found.append(Signal(name, match.group(0).strip()[:60]))
    match = SARCASM.search(folded)
    if match:
        found.append(Signal("sarcasm", match.group(0).strip()[:60]))
    return found


def shouting(text: str) -> float:
    """Share of words (4+ letters, so acronyms like "ATM" do not count) written in capitals;
    0 unless at least three such words are capitalised."""
    long_words = re.findall(r"[^\W\d_]{4,}", text)
    caps = sum(1 for w in long_words if w.isupper())
    if caps < 3:
        return 0.0
    return caps / len(long_words)


def exclamations(text: str) -> int:
    """The longest run of ! (or ?! mixes): "!!!" is 3."""
    runs = re.findall(r"[!?¡¿]*!+[!?¡¿]*", text)
    return max((len(r) for r in runs), default=0)
