"""Ready evaluation time (``evaluate_ready``: pure, no I/O) for a 65 KB issue body, the most a forge
keeps (GitHub caps bodies at 65,536 characters), against the default config (English and French
Gherkin, cucumber's keywords). The body is a realistic one: a story, scenarios in French and in
English (official keywords of both, headers, ``*`` steps in a feature block), prose, a long table.
Prints p50, p95 and max over repeated runs, and the first evaluation of a new config (its patterns
compiled) apart. Target: p50 well under the service's 100 ms p95 for its own work."""

from __future__ import annotations

import json
import statistics
import time

from bot.checks.ready import evaluate_ready
from bot.config import default_config_text, load_config
from bot.model import Issue

LIMIT = 65_000  # characters

HEAD = """\
## User story
En tant que syndic, je veux relancer automatiquement les copropriétaires en retard de paiement,
afin que la trésorerie de la copropriété reste saine sans relance manuelle.

As a council member, I want to see every reminder sent, so that I can answer owners who dispute them.

## Contexte
Les appels de fonds sont émis chaque trimestre. Donc un retard se constate au plus tôt 30 jours
après l'échéance. Et les relances doivent rester courtoises : le règlement de copropriété l'exige.
Mais un copropriétaire en plan d'apurement ne doit pas être relancé. Soit dit en passant, les
relances papier restent possibles pour ceux qui n'ont pas d'adresse e-mail.

**Estimation** : 8 points
**Équipes** : Backend (5 pts), Frontend (3 pts)
Dépend de #44, bloque org/koprogo-web#12
"""

SCENARIO_FR = """\
### Scénario {n} : relance du lot {n} après {days} jours
- Sachant que l'appel de fonds du lot {n} est impayé depuis {days} jours
- Et que le copropriétaire n'a pas de plan d'apurement
- Quand la relance quotidienne s'exécute à 6 h
- Donc le copropriétaire du lot {n} reçoit un e-mail de relance
- Et la relance est inscrite dans l'historique du lot
- Mais aucun SMS n'est envoyé avant le deuxième rappel

"""

SCENARIO_EN = """\
Scenario Outline: council member reviews reminder {n}
  Given reminder {n} was sent to the owner of lot {n}
  And the owner disputes it by e-mail
  When a council member opens the reminder history
  Then reminder {n} is listed with its date and amount
  But the owner's bank details are not shown

"""

FEATURE_BLOCK = """\
```gherkin
# language: fr
Fonctionnalité: relances
  Contexte:
    Étant donné un exercice comptable ouvert
  Plan du scénario: relance n°{n}
    Soit un appel de fonds de <montant> euros
    * échu depuis <jours> jours
    Lorsqu'on lance la relance
    Alors un e-mail part
    * et l'historique le note
  Exemples:
    | montant | jours |
    | 120     | 30    |
    | 480     | 60    |
```

"""

PROSE = """\
Quand le conseil syndical s'est réuni le {n} mars, il a demandé que les relances soient plus
lisibles, et que le montant dû apparaisse en tête du message. The previous tool sent reminders
without the amount, so owners called the syndic to ask; this story removes that step. Alors que
l'ancien outil envoyait tout en une fois, les relances seront étalées sur la matinée.

"""

TABLE_HEAD = "| Lot | Copropriétaire | Échéance | Montant dû | Jours de retard | Relances | Plan d'apurement |\n"
TABLE_RULE = "| --- | --- | --- | --- | --- | --- | --- |\n"
TABLE_ROW = "| {n} | Copropriétaire {n} | 2026-0{month}-01 | {amount},00 € | {days} | {sent} | {plan} |\n"


def body(limit: int = LIMIT) -> str:
    """A realistic issue body of about ``limit`` characters: about half scenarios, then a table."""
    parts, size, n = [HEAD], len(HEAD), 0
    while size < limit // 2:
        n += 1
        days = 30 + n % 60
        for piece in (SCENARIO_FR.format(n=n, days=days), SCENARIO_EN.format(n=n),
                      PROSE.format(n=n % 28 + 1), FEATURE_BLOCK.format(n=n) if n % 4 == 0 else ""):
            parts.append(piece)
            size += len(piece)
    parts += ["## Lots en retard\n\n", TABLE_HEAD, TABLE_RULE]
    size += sum(map(len, parts[-3:]))
    row = 0
    while True:
        row += 1
        line = TABLE_ROW.format(n=row, month=row % 9 + 1, amount=120 + row * 7 % 900, days=30 + row % 90,
                                sent=row % 4, plan="oui" if row % 11 == 0 else "non")
        if size + len(line) > limit:
            break
        parts.append(line)
        size += len(line)
    return "".join(parts)


def issue(text: str) -> Issue:
    return Issue("github", "org/koprogo-api", 12, "Relancer les copropriétaires en retard", text, "po")


def main(rounds: int = 200) -> dict:
    text = body()
    item = issue(text)
    config = load_config(default_config_text())
    started = time.perf_counter()
    verdict = evaluate_ready(item, config)  # a new config: its patterns are compiled first
    first_ms = (time.perf_counter() - started) * 1000
    evaluate_ready(item, config)  # warm: the running service has this config's patterns
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        evaluate_ready(item, config)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    criteria = verdict.criterion("testable").reason
    result = {
        "chars": len(text), "bytes": len(text.encode("utf-8")), "lines": text.count("\n"), "rounds": rounds,
        "p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(0.95 * len(times))], 2),
        "max_ms": round(times[-1], 2), "first_ms": round(first_ms, 2), "ready": verdict.ready,
    }
    print(f"ready, {result['chars']:,} characters ({result['bytes']:,} bytes, {result['lines']:,} lines), "
          f"language {verdict.language}, ready={verdict.ready}: {criteria}")
    print(f"evaluate_ready over {rounds} runs: p50 {result['p50_ms']:.2f} ms, p95 {result['p95_ms']:.2f} ms, "
          f"max {result['max_ms']:.2f} ms; first run on a new config {result['first_ms']:.2f} ms")
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
