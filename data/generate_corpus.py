#!/usr/bin/env python3
"""Write a large, reproducible corpus of synthetic WorkMail mail for benchmarks and load tests.

    python data/generate_corpus.py OUT_DIR -n 10000 --seed 7 [--format eml|mbox|maildir]
                                   [--outbound-ratio 0.3]

The mail belongs to the same fictional organization as ``data/emails`` (domains ``example.com``
and ``sales.example.com``); everyone else uses ``example.org`` / ``example.net`` subdomains. The
mix: inbound and outbound mail, internal and external recipients (1 to 20, now and then 200 or
more), sent on behalf (``Sender`` + ``From``) and sent as a group, ``Cc`` and ``Bcc``, RFC 2047
encoded subjects and display names (some non-ASCII, some longer than 256 characters), SES spam and
virus verdicts on inbound mail (some ``FAIL``), HTML alternatives and small attachments. Every
message has a unique ``Message-ID``; the ``Date`` values are spread over one fixed day.

The same ``n``, seed, ratio and format always give byte-identical output: all randomness comes
from one ``random.Random(seed)`` and nothing reads the clock or the host name. Messages are
generated and written one at a time, so memory use does not grow with ``n`` (measured: the same peak
RSS at 10,000 and 100,000 messages in every format, ``benchmarks/bench_flow.py --memory``). The mbox
is written directly, byte for byte as ``mailbox.mbox`` writes it, because ``mailbox.mbox`` keeps
every message's offsets in memory.

Layouts: ``eml`` writes ``OUT_DIR/00001.eml`` ...; ``mbox`` writes ``OUT_DIR/corpus.mbox`` (the
``From_`` line carries the envelope sender and the message date); ``maildir`` writes
``OUT_DIR/maildir/{cur,new,tmp}`` with each message in ``new/`` under a fixed name. The message
bytes keep their CRLF line endings in all three formats, because the sandbox consumes wire-format
mail.

From Python (the ``data`` folder is not a package; load the file by path)::

    import importlib.util
    spec = importlib.util.spec_from_file_location("generate_corpus", "data/generate_corpus.py")
    gen = importlib.util.module_from_spec(spec); spec.loader.exec_module(gen)
    for raw in gen.generate_messages(1000, seed=7):
        ...

Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as _dt
import email.utils
import os
import random
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

__all__ = ["FORMATS", "generate_messages", "write_corpus", "main"]

FORMATS = ("eml", "mbox", "maildir")

BASE_DATE = _dt.datetime(2025, 11, 17, 0, 0, 0, tzinfo=_dt.UTC)  # a Monday
ORG_DOMAINS = ("example.com", "sales.example.com")

# --- people -------------------------------------------------------------------------------
_FIRST = [
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Hana", "Ines", "Jamal", "Kira", "Leo", "Maya", "Noah",
    "Olivia", "Pavel", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wes", "Xenia", "Yusuf", "Zoe", "Adam", "Bea",
    "Cyril", "Dina", "Eli", "Fay", "Gus", "Hugo",
]
_LAST = [
    "Martin", "Nguyen", "Diaz", "Okafor", "Walsh", "Moreau", "Kim", "Yilmaz", "Costa", "Wright", "Novak", "Fischer",
    "Singh", "Becker", "Park", "Horak", "Adler", "Jimenez", "Osei", "Byrne", "Haddad", "Lindqvist", "Turner", "Petrova",
    "Demir", "Blake", "Ruiz", "Sato",
]
_EXT_FIRST = [
    "Jordan", "Lena", "Carlos", "Mei", "Priya", "Tom", "Ana", "Ben", "Chloe", "Dev", "Ella", "Finn", "Gina", "Hiro",
    "Ivy", "Jonas",
]
_EXT_LAST = [
    "Reyes", "Vogt", "Mendes", "Tanaka", "Shah", "Ellis", "Souza", "Carter", "Laurent", "Patel", "Rossi", "Murphy",
]
_NON_ASCII_NAMES = (
    "José Álvarez", "Zoë Müller", "Søren Kjær", "Łucja Wójcik", "François Lefèvre",
    "Ólafur Þórsson", "佐藤 美咲", "王芳", "Дмитрий Орлов", "Αλέξης Παππάς", "İpek Şahin",
)
INTERNAL_USERS = tuple(
    (f"{first} {last}", f"{first.lower()}@{'sales.example.com' if i % 4 == 3 else 'example.com'}")
    for i, (first, last) in enumerate(zip(_FIRST, _LAST * 2))
)
GROUPS = (
    ("Example Corp Finance", "finance@example.com"),
    ("Example Corp Sales", "sales@sales.example.com"),
    ("Support", "support@example.com"),
)
EXTERNAL_DOMAINS = (
    "example.org", "example.net", "partner.example.org", "mail.example.net",
    "harbor.example.org", "brightwater.example.net", "supplier.example.org", "clients.example.net",
)
BULK_DOMAINS = ("newsletter.example.net", "news.example.org", "billing.example.net")
SPAM_DOMAINS = ("offers.example.net", "mailbox-quota.example.net", "parcel-notice.example.net")

# --- text ---------------------------------------------------------------------------------
_TOPICS = (
    "the December delivery schedule", "order {n}", "invoice {n}", "the Lyon office fit-out",
    "the quarterly review", "the framework agreement", "pallet counts for week {w}",
    "the new price list", "returns from the Riverside site", "the kick-off call",
    "site contacts for the rollout", "the carrier contract", "budget for Q{q}",
)
_SUBJECTS = (
    "{Topic}", "Re: {topic}", "RE: {topic}", "Fwd: {topic}", "Question about {topic}",
    "Update on {topic}", "Reminder: {topic}", "Meeting notes: {topic}", "Action required: {topic}",
    "Quote request for {topic}", "Follow-up on {topic}",
)
_NON_ASCII_SUBJECTS = (
    "Rückfrage zur Lieferung KW {w}", "Réunion trimestrielle : ordre du jour",
    "Presupuesto para el pedido {n}",
    "【ご確認】請求書 {n} の送付について", "关于订单 {n} 的交货时间", "Уточнение по заказу № {n}",
    "Προσφορά για την παραγγελία {n}", "Sipariş {n} hakkında", "🎉 Team lunch on Friday 🍕",
    "Zamówienie {n}: potwierdzenie", "Avaliação do fornecedor – {n}",
)
def fill(text: str, width: int = 72) -> str:
    """``textwrap.fill(text, width)``, faster for what this script writes.

    Words joined by single spaces, without hyphens and none longer than ``width``
    (every sentence here): textwrap's greedy fill is then "a word goes on the line
    when it fits after one space", which this does without textwrap's regular
    expressions (a third of the script's time). Anything else goes to textwrap.
    """
    words = text.split(" ")
    if "-" in text or any(not w or len(w) > width or not w.isprintable() for w in words):
        return textwrap.fill(text, width)
    lines: list[str] = []
    line = words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return "\n".join(lines)


_SENTENCES = (
    "Thanks for your message earlier today.",
    "As agreed on the call, the first delivery goes out on Tuesday.",
    "Please confirm the site contact and a phone number for the driver.",
    "The quote is valid until the end of the month.",
    "I have attached the figures we discussed.",
    "Our warehouse can load between 07:00 and 11:00.",
    "Let me know if the new time window does not suit your team.",
    "The invoice has been paid and should reach your account within two days.",
    "We still need the signed order form before we can ship.",
    "Could you send the updated pallet counts by Friday?",
    "The carrier has asked for the loading dock numbers.",
    "I will be out of the office on Thursday afternoon.",
    "Alice will join the call for the procurement questions.",
    "Please treat these prices as confidential.",
    "The meeting room on the second floor is booked from 14:00.",
    "We moved the review to next week because of the holiday.",
)
_NON_ASCII_SENTENCES = (
    "Mit freundlichen Grüßen aus dem Lager.", "Merci pour votre réponse rapide.",
    "La entrega está prevista para el martes.", "よろしくお願いいたします。", "谢谢您的配合。",
    "Спасибо за быстрый ответ.", "Prices are in € and include delivery – no surcharge.",
)
_SPAM_SUBJECTS = (
    "Action needed: your mailbox is {n}% full", "You have (1) pending parcel delivery",
    "Guaranteed {n}% monthly returns", "Your account will be suspended today",
    "Claim your reward before midnight",
)
_SPAM_BODY = (
    "Dear user,\n\nYour account needs to be verified within 24 hours or it will be closed.\n"
    "Click the link below to keep your messages:\n\nhttp://{d}/verify\n\nAdministrator\n"
)
_LONG_TAIL = (
    "confirm the revised delivery dates, pallet counts, loading dock assignments and site contacts "
    "for every warehouse so that the carrier can finalise the route plan, book the trucks, update "
    "the bill of lading templates and send the revised timetable to each site lead before the "
    "holiday freeze starts and the new rates apply"
)

_LINESEP = os.linesep.encode("ascii")  # what mailbox.mbox writes between lines, so its reader agrees
_BYTES_PER_WORD = 42  # UTF-8 bytes per encoded word: 56 base64 chars, so a line stays under 78


# --- header helpers -----------------------------------------------------------------------
def _encoded_words(text: str) -> str:
    """RFC 2047 UTF-8 B encoded words, never splitting a character, folded one per line."""
    words, chunk, size = [], [], 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        if size + n > _BYTES_PER_WORD:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(ch)
        size += n
    words.append("".join(chunk))
    return "\r\n ".join(
        "=?UTF-8?B?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words
    )


def _fold_ascii(text: str, width: int = 76) -> str:
    lines, cur = [], ""
    for word in text.split(" "):
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    lines.append(cur)
    return "\r\n ".join(lines)


def _unstructured(text: str) -> str:
    return _fold_ascii(text) if text.isascii() else _encoded_words(text)


def _mailbox(name: str, addr: str) -> str:
    if not name:
        return addr
    if name.isascii():
        return f"{name} <{addr}>"
    return f"{_encoded_words(name)} <{addr}>"


def _address_list(pairs) -> str:
    return ",\r\n ".join(_mailbox(n, a) for n, a in pairs)


# --- body helpers -------------------------------------------------------------------------
_UTF8_QP = 'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text_part(text: str) -> tuple[str, str]:
    """(headers, encoded body) for a text/plain part; CRLF line endings."""
    if text.isascii():
        return ('Content-Type: text/plain; charset="us-ascii"\r\nContent-Transfer-Encoding: 7bit',
                text.replace("\n", "\r\n"))
    body = _qp(text)
    return (_UTF8_QP.format(subtype="plain"), body)


def _html_part(text: str) -> tuple[str, str]:
    paras = "".join(
        "<p>" + _escape(p).replace("\n", "<br>\n") + "</p>\n"
        for p in text.strip().split("\n\n")
    )
    body = _qp(f"<html><body>\n{paras}</body></html>\n")
    return (_UTF8_QP.format(subtype="html"), body)


def _qp(text: str) -> str:
    """Quoted-printable UTF-8 with CRLF line ends (``text`` uses LF)."""
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii").replace("\n", "\r\n")


def _b64_body(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")


def _multipart(subtype: str, boundary: str, parts) -> tuple[str, str]:
    body = "".join(f"--{boundary}\r\n{h}\r\n\r\n{b.rstrip(chr(13) + chr(10))}\r\n" for h, b in parts)
    return (f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"', body + f"--{boundary}--\r\n")


# --- the generator ------------------------------------------------------------------------
class _Generator:
    def __init__(self, seed: int, outbound_ratio: float, n: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.outbound_ratio = outbound_ratio
        self.n = n
        self.external_people = [
            (f"{first} {last}", f"{first.lower()}.{last.lower()}@{d}")
            for d in EXTERNAL_DOMAINS
            for first, last in zip(_EXT_FIRST, _EXT_LAST * 2)
        ]

    def _external(self) -> tuple[str, str]:
        rng = self.rng
        name, addr = rng.choice(self.external_people)
        if rng.random() < 0.08:
            name = rng.choice(_NON_ASCII_NAMES)
        return name, addr

    def _recipients(self, count: int, internal_share: float) -> list[tuple[str, str]]:
        rng = self.rng
        out, seen = [], set()
        while len(out) < count:
            if rng.random() < internal_share:
                pair = rng.choice(INTERNAL_USERS)
            elif count > len(INTERNAL_USERS) + len(self.external_people) - 5:
                i = len(out)
                pair = ("", f"attendee{i:04d}@{rng.choice(EXTERNAL_DOMAINS)}")
            else:
                pair = self._external()
            if pair[1] not in seen:
                seen.add(pair[1])
                out.append(pair)
        return out

    def _subject(self) -> str:
        rng = self.rng
        r = rng.random()
        fill = {"n": rng.randrange(1000, 99999), "w": rng.randrange(1, 53), "q": rng.randrange(1, 5)}
        if r < 0.12:
            return rng.choice(_NON_ASCII_SUBJECTS).format(**fill)
        topic = rng.choice(_TOPICS).format(**fill)
        subject = rng.choice(_SUBJECTS).format(topic=topic, Topic=topic[0].upper() + topic[1:])
        if r > 0.975:  # long subjects: past the event's 256-character cut
            subject = "RE: FW: RE: " + subject + ": please " + _LONG_TAIL
            if r > 0.99:
                subject += " – " + "".join(rng.choice("📦🚚📅✅⚠️📎") for _ in range(8))
        return subject

    def _body(self, signer: str, spam_domain: str | None) -> str:
        rng = self.rng
        if spam_domain:
            return _SPAM_BODY.format(d=spam_domain)
        paras = []
        for _ in range(rng.randrange(1, 4)):
            sentences = [rng.choice(_SENTENCES) for _ in range(rng.randrange(1, 5))]
            if rng.random() < 0.1:
                sentences.append(rng.choice(_NON_ASCII_SENTENCES))
            paras.append(fill(" ".join(sentences)))
        first = signer.split(" ")[0] if signer else "Example Corp"
        return "Hello,\n\n" + "\n\n".join(paras) + f"\n\nBest regards,\n{first}\n"

    def _attachment(self) -> tuple[str, str]:
        rng = self.rng
        kind = rng.random()
        n = rng.randrange(1000, 99999)
        if kind < 0.5:
            rows = "".join(
                f"{rng.choice(('DSK', 'CHR', 'CAB', 'TRY'))}-{rng.randrange(10, 99)},"
                f"{rng.randrange(1, 40)},{rng.randrange(1000, 90000) / 100:.2f}\r\n"
                for _ in range(rng.randrange(3, 30))
            )
            data, ctype, name = ("sku,qty,price_eur\r\n" + rows).encode("ascii"), "text/csv", f"order-{n}.csv"
        elif kind < 0.85:
            data = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + rng.randbytes(rng.randrange(300, 3000)) + b"\n%%EOF\n"
            ctype, name = "application/pdf", f"invoice-{n}.pdf"
        else:
            data = b"\x89PNG\r\n\x1a\n" + rng.randbytes(rng.randrange(200, 2000))
            ctype, name = "image/png", f"photo-{n}.png"
        headers = (
            f'Content-Type: {ctype}; name="{name}"\r\n'
            f'Content-Disposition: attachment; filename="{name}"\r\n'
            "Content-Transfer-Encoding: base64"
        )
        return headers, _b64_body(data)

    def message(self, i: int) -> tuple[str, str, _dt.datetime, bytes]:
        """Return (direction, envelope sender, date, raw bytes) for message ``i`` (0-based)."""
        rng = self.rng
        outbound = rng.random() < self.outbound_ratio
        when = BASE_DATE + _dt.timedelta(seconds=(i * 86400) // self.n + rng.randrange(0, 60))
        date = email.utils.format_datetime(when)
        many = rng.random() < 0.01
        count = rng.randrange(200, 320) if many else min(20, 1 + int(rng.expovariate(0.45)))
        headers: list[str] = []
        sender = None
        spam_domain = None

        if outbound:
            direction = "OUTBOUND"
            r = rng.random()
            if r < 0.05:  # sent as a group: From is the group, no Sender
                from_pair = rng.choice(GROUPS)
            else:
                from_pair = rng.choice(INTERNAL_USERS)
                if r > 0.94:  # sent on behalf: Sender is the actual sender
                    sender = rng.choice([u for u in INTERNAL_USERS if u != from_pair])
            recipients = self._recipients(count, internal_share=0.35)
            env_from = from_pair[1]
            ip = f"198.51.100.{rng.randrange(2, 250)}"
            headers.append(
                f"Received: from [{ip}] by smtp.mail.us-east-1.workmail.test with ESMTPSA;\r\n {date}"
            )
            mid_domain = "mail." + from_pair[1].split("@")[1]
        else:
            direction = "INBOUND"
            r = rng.random()
            spam = r < 0.07
            bulk = 0.07 <= r < 0.15
            if spam:
                spam_domain = rng.choice(SPAM_DOMAINS)
                name = rng.choice(("IT Helpdesk", "Parcel Service", "Rewards Team", ""))
                from_pair = (name, f"no-reply@{spam_domain}")
            elif bulk:
                d = rng.choice(BULK_DOMAINS)
                from_pair = (rng.choice(("Warehouse Weekly", "Billing", "Product News")), f"news@{d}")
            else:
                from_pair = self._external()
            recipients = self._recipients(count, internal_share=0.75)
            if not any(a.endswith(ORG_DOMAINS) for _, a in recipients):
                recipients[0] = rng.choice(INTERNAL_USERS)
            env_from = from_pair[1]
            helo = "mx." + env_from.split("@")[1]
            ip = f"203.0.113.{rng.randrange(2, 250)}"
            first_org = next(a for _, a in recipients if a.endswith(ORG_DOMAINS))
            virus = "FAIL" if rng.random() < 0.01 else "PASS"
            spf = "fail" if spam and rng.random() < 0.6 else "pass"
            headers += [
                f"Return-Path: <{env_from}>",
                f"Received: from {helo} ({helo} [{ip}])\r\n by inbound-smtp.us-east-1.workmail.test"
                f" with SMTP id {rng.getrandbits(96):024x}\r\n for {first_org};\r\n {date} (UTC)",
                f"X-SES-Spam-Verdict: {'FAIL' if spam else 'PASS'}",
                f"X-SES-Virus-Verdict: {virus}",
                f"Received-SPF: {spf} (spf.inbound.workmail.test) client-ip={ip};\r\n"
                f" envelope-from={env_from}; helo={helo};",
            ]
            if bulk:
                headers += [
                    f"List-Unsubscribe: <mailto:unsubscribe@{env_from.split('@')[1]}>",
                    "Precedence: bulk",
                ]
            mid_domain = helo

        # split recipients over To / Cc / Bcc
        n_rec = len(recipients)
        n_to = n_rec if n_rec == 1 or rng.random() < 0.6 else rng.randrange(1, n_rec)
        to, rest = recipients[:n_to], recipients[n_to:]
        bcc: list[tuple[str, str]] = []
        if rest and outbound and rng.random() < 0.3:
            k = rng.randrange(1, len(rest) + 1) if len(rest) < 4 else rng.randrange(1, 4)
            bcc, rest = rest[-k:], rest[:-k]
        subject = self._subject()
        if spam_domain:
            subject = rng.choice(_SPAM_SUBJECTS).format(n=rng.randrange(12, 99))

        if sender:
            headers.append(f"Sender: {_mailbox(*sender)}")
        headers.append(f"From: {_mailbox(*from_pair)}")
        headers.append(f"To: {_address_list(to)}")
        if rest:
            headers.append(f"Cc: {_address_list(rest)}")
        if bcc:
            headers.append(f"Bcc: {_address_list(bcc)}")
        headers.append(f"Subject: {_unstructured(subject)}")
        headers.append(f"Date: {date}")
        headers.append(f"Message-ID: <{self.seed:x}.{i:08x}.{rng.getrandbits(64):016x}@{mid_domain}>")
        if subject.lower().startswith("re:"):
            ref = f"<{rng.getrandbits(80):020x}@{rng.choice(EXTERNAL_DOMAINS + ORG_DOMAINS)}>"
            headers += [f"In-Reply-To: {ref}", f"References: {ref}"]
        headers.append("MIME-Version: 1.0")
        if outbound:
            headers.append("X-Mailer: Amazon WorkMail")

        text = self._body((sender or from_pair)[0], spam_domain)
        r = rng.random()
        if r < 0.04:
            content = _html_part(text)
        else:
            content = _text_part(text)
            if r < 0.35:
                content = _multipart("alternative", f"=_alt_{self.seed:x}_{i:x}", [content, _html_part(text)])
        if rng.random() < 0.12:
            parts = [content] + [self._attachment() for _ in range(rng.randrange(1, 3))]
            content = _multipart("mixed", f"=_mixed_{self.seed:x}_{i:x}", parts)
        headers.append(content[0])
        raw = "\r\n".join(headers) + "\r\n\r\n" + content[1]
        return direction, env_from, when, raw.encode("ascii")


def _asctime(when: _dt.datetime) -> str:
    """``time.asctime`` layout for the mbox ``From_`` line, independent of the locale."""
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[when.weekday()]
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[when.month - 1]
    return f"{day} {month} {when.day:2d} {when:%H:%M:%S} {when.year}"


def _mbox_entry(env_from: str, when: _dt.datetime, raw: bytes) -> bytes:
    """One message as ``mailbox.mbox.add`` writes it, without its table of contents.

    ``mailbox.mbox`` keeps the offsets of every message it adds in memory (about 200 bytes each, so
    some 200 MB at a million messages); writing the same bytes straight to the file keeps memory
    flat. The bytes: the ``From_`` line, the message with lines starting ``From `` quoted as
    ``>From `` (mboxo, as ``mailbox`` does), a line end if it has none, and an empty line.
    """
    body = raw.replace(b"\nFrom ", b"\n>From ").replace(b"\n", _LINESEP)
    if not body.endswith(_LINESEP):
        body += _LINESEP
    return f"From {env_from} {_asctime(when)}".encode("ascii") + _LINESEP + body + _LINESEP


def _iter(n: int, seed: int, outbound_ratio: float):
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0.0 <= outbound_ratio <= 1.0:
        raise ValueError(f"outbound_ratio must be between 0 and 1, got {outbound_ratio}")
    gen = _Generator(seed, outbound_ratio, n)
    for i in range(n):
        yield gen.message(i)


def generate_messages(n: int, seed: int = 0, outbound_ratio: float = 0.3) -> Iterator[bytes]:
    """Yield ``n`` raw RFC 5322 messages (bytes, CRLF), the same ones for the same arguments."""
    for _direction, _env_from, _when, raw in _iter(n, seed, outbound_ratio):
        yield raw


def write_corpus(out_dir, n: int, seed: int = 0, fmt: str = "eml", outbound_ratio: float = 0.3) -> dict:
    """Write ``n`` messages to ``out_dir`` in format ``fmt``; return counts for a summary.

    ``out_dir`` is created if needed and must be empty, so an earlier, larger run never leaves
    stray messages behind. Raises ``ValueError`` for a bad argument.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} exists and is not an empty directory; choose a new or empty one")
    messages = _iter(n, seed, outbound_ratio)  # validates n and the ratio before touching disk
    first = next(messages)
    out.mkdir(parents=True, exist_ok=True)
    stats = {"messages": 0, "inbound": 0, "outbound": 0, "bytes": 0, "format": fmt, "path": str(out)}
    width = max(5, len(str(n)))

    def chain():
        yield first
        yield from messages

    box = None
    if fmt == "mbox":
        stats["path"] = str(out / "corpus.mbox")
        box = open(stats["path"], "wb")  # noqa: SIM115 - closed in the finally below
    elif fmt == "maildir":
        for sub in ("cur", "new", "tmp"):
            (out / "maildir" / sub).mkdir(parents=True, exist_ok=True)
        stats["path"] = str(out / "maildir")
    try:
        for i, (direction, env_from, when, raw) in enumerate(chain()):
            if fmt == "eml":
                (out / f"{i + 1:0{width}d}.eml").write_bytes(raw)
            elif fmt == "mbox":
                box.write(_mbox_entry(env_from, when, raw))
            else:
                name = f"{int(when.timestamp())}.{i + 1:0{width}d}_{seed}.workmail-sandbox"
                (out / "maildir" / "new" / name).write_bytes(raw)
            stats["messages"] += 1
            stats[direction.lower()] += 1
            stats["bytes"] += len(raw)
    finally:
        if box is not None:
            box.close()
    return stats


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="generate_corpus.py",
        description="Write N synthetic, reproducible WorkMail messages for benchmarks and load tests.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", help="new or empty directory to write into")
    parser.add_argument("-n", type=int, default=1000, help="number of messages (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--format", choices=FORMATS, default="eml", help="output layout (default eml)")
    parser.add_argument("--outbound-ratio", type=float, default=0.3,
                        help="share of outbound messages, 0 to 1 (default 0.3)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"argument -n: must be at least 1, got {args.n}")
    if not 0.0 <= args.outbound_ratio <= 1.0:
        parser.error(f"argument --outbound-ratio: must be between 0 and 1, got {args.outbound_ratio}")
    try:
        stats = write_corpus(args.out_dir, args.n, args.seed, args.format, args.outbound_ratio)
    except ValueError as exc:
        parser.error(str(exc))
    print(
        f"wrote {stats['messages']} messages ({stats['inbound']} inbound, {stats['outbound']} outbound,"
        f" {stats['bytes'] / 1e6:.1f} MB) as {stats['format']} to {stats['path']} (seed {args.seed})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
