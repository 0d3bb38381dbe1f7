"""Words for the demo shop "Northwind Home" (kettles, lamps, bedding...), written for Helpline.

Each family is one reason people write: subjects and first messages per language, the agent's
replies, the customer's follow-ups and the internal notes agents leave for each other. Placeholders
(``{first}``, ``{order}``, ``{product}``, ``{agent}``, ``{days}``) are filled by the loader.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Family:
    """One reason to write. Where a language has as many subjects (or replies) as openers,
    they are variants that belong together: subject i, opener i and reply i tell one story."""

    key: str
    team: str
    tags: tuple[str, ...]
    # Relative weights for low / normal / high / urgent.
    priorities: tuple[int, int, int, int]
    subjects: dict[str, tuple[str, ...]]
    openers: dict[str, tuple[str, ...]]
    replies: dict[str, tuple[str, ...]]
    followups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    weight: int = 10
    needs_order: bool = True


FIRST_NAMES = (
    "Amelia", "Noah", "Olivia", "Liam", "Maya", "Ethan", "Chloe", "Lucas", "Zoe", "Oscar",
    "Priya", "Arjun", "Hannah", "Jonas", "Lea", "Felix", "Marta", "Diego", "Lucia", "Pablo",
    "Camille", "Hugo", "Manon", "Louis", "Aisha", "Omar", "Yuki", "Kenji", "Sofia", "Mateo",
    "Ingrid", "Lars", "Fatima", "Tomasz", "Agnieszka", "Ruth", "Samuel", "Grace", "Isaac",
    "Nadia", "Elif", "Emre", "Freya", "Callum", "Niamh", "Declan", "Ava", "Leo", "Ines", "Rui",
)
LAST_NAMES = (
    "Walker", "Patel", "Okafor", "Nguyen", "Schmidt", "Müller", "García", "Fernández", "Dubois",
    "Lefèvre", "Rossi", "Bianchi", "Kowalski", "Nowak", "Jensen", "Larsen", "Haddad", "Khan",
    "Tanaka", "Sato", "O'Brien", "Murphy", "Campbell", "Hughes", "Moreau", "Fischer", "Weber",
    "López", "Martín", "Silva", "Costa", "Yilmaz", "Demir", "Andersson", "Berg", "Reid", "Price",
    "Ellis", "Chen", "Wong",
)
# Spanish, German and French speakers get names (and texts) that fit.
NAMES_BY_LANGUAGE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "es": (("Lucía", "Javier", "Carmen", "Álvaro", "Marta", "Diego", "Elena", "Pablo"),
           ("García", "Fernández", "López", "Martín", "Sánchez", "Romero", "Navarro")),
    "de": (("Jonas", "Lea", "Felix", "Hannah", "Lukas", "Anna", "Moritz", "Greta"),
           ("Müller", "Schmidt", "Fischer", "Weber", "Becker", "Hoffmann", "Krüger")),
    "fr": (("Camille", "Hugo", "Manon", "Louis", "Chloé", "Théo", "Inès", "Julien"),
           ("Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Bonnet", "Rousseau")),
}

PRODUCTS = (
    ("Aurora glass kettle", "39.90"),
    ("Halden oak desk lamp", "74.00"),
    ("Cloudrest duvet (double)", "129.00"),
    ("Fennel linen sheet set", "89.50"),
    ("Brisk cordless hand blender", "54.99"),
    ("Solace ceramic mug, set of 4", "32.00"),
    ("Tallow scented candle trio", "27.50"),
    ("Ember cast-iron skillet", "61.00"),
    ("Drift wool throw", "98.00"),
    ("Lumen smart bulb starter kit", "45.00"),
    ("Pebble bathroom scale", "36.90"),
    ("Norrland pour-over coffee set", "58.00"),
    ("Quiet Hours white-noise speaker", "69.00"),
    ("Harbour cotton bath towels", "44.00"),
    ("Vela standing fan", "119.00"),
)

ORGANISATIONS = (
    ("Brightwater Cafés", "brightwater.example"),
    ("Kettleby Guesthouses", "kettleby.example"),
    ("Oakline Studio", "oakline.example"),
    ("Riverside Dental Group", "riversidedental.example"),
    ("Tallis & Rowe Architects", "tallisrowe.example"),
    ("Maple Street School", "maplestreet.example"),
    ("Fjordlight Hostels", "fjordlight.example"),
    ("Casa Olivo Restaurantes", "casaolivo.example"),
)

FAMILIES: tuple[Family, ...] = (
    Family(
        key="refund",
        team="Billing",
        tags=("refund",),
        priorities=(1, 6, 2, 0),
        weight=14,
        subjects={
            "en": ("Refund for order {order}", "Still waiting for my refund",
                   "Where is my money back? ({order})"),
            "es": ("Reembolso del pedido {order}",),
            "de": ("Rückerstattung für Bestellung {order}",),
            "fr": ("Remboursement de la commande {order}",),
        },
        openers={
            "en": (
                "Hi, I sent the {product} back two weeks ago and the parcel was signed for on "
                "your side, but the refund has not appeared on my card yet. Order {order}. "
                "Could you check what is holding it up?",
                "Hello, I returned order {order} ({product}) and got an email saying the return "
                "was received. It has now been {days} days and no refund. How long does it "
                "normally take?",
            ),
            "es": (
                "Hola, devolví el {product} del pedido {order} hace dos semanas y todavía no "
                "he recibido el reembolso. ¿Podrían revisarlo, por favor?",
            ),
            "de": (
                "Guten Tag, ich habe die Bestellung {order} ({product}) zurückgeschickt und "
                "warte seit {days} Tagen auf die Erstattung. Können Sie bitte nachsehen?",
            ),
            "fr": (
                "Bonjour, j'ai renvoyé la commande {order} ({product}) il y a {days} jours et "
                "je n'ai toujours pas été remboursé. Pouvez-vous vérifier ?",
            ),
        },
        replies={
            "en": (
                "Hi {first}, thanks for your patience. I can see the return for {order} arrived "
                "at our warehouse; the refund was released today and should reach your card "
                "within 3-5 working days depending on your bank.",
                "Hi {first}, I checked {order}: the refund was stuck waiting for a quality "
                "check. I have pushed it through manually, so you will see it shortly. Sorry "
                "for the wait.",
            ),
            "es": (
                "Hola {first}, gracias por la paciencia. El reembolso del pedido {order} se ha "
                "emitido hoy; lo verás en tu tarjeta en 3-5 días hábiles.",
            ),
            "de": (
                "Hallo {first}, danke für Ihre Geduld. Die Erstattung für {order} wurde heute "
                "veranlasst und ist in 3-5 Werktagen auf Ihrem Konto.",
            ),
            "fr": (
                "Bonjour {first}, merci pour votre patience. Le remboursement de la commande "
                "{order} a été déclenché aujourd'hui ; comptez 3 à 5 jours ouvrés.",
            ),
        },
        followups={
            "en": ("Thanks, the money arrived this morning.",
                   "It is still not there. Can you send me a reference I can give my bank?"),
            "es": ("Perfecto, ya me ha llegado. ¡Gracias!",),
            "de": ("Vielen Dank, das Geld ist angekommen.",),
            "fr": ("Merci, j'ai bien reçu le remboursement.",),
        },
        notes=("Return scanned at the warehouse on time; refund batch had failed. Re-queued.",
               "Refund issued manually in the payment console, ref noted on the order."),
    ),
    Family(
        key="delivery_delay",
        team="Shipping",
        tags=("delivery", "delay"),
        priorities=(0, 5, 3, 1),
        weight=16,
        subjects={
            "en": ("Order {order} has not arrived", "Delivery is late",
                   "Tracking hasn't moved for days"),
            "es": ("Mi pedido {order} no ha llegado",),
            "de": ("Lieferung {order} verspätet",),
            "fr": ("Commande {order} toujours pas livrée",),
        },
        openers={
            "en": (
                "My order {order} was supposed to arrive on Tuesday. The tracking page has said "
                "'in transit' for {days} days now. Is it lost?",
                "Hi, I ordered the {product} as a birthday present and it still hasn't come. "
                "The party is on Saturday. Is there anything you can do?",
            ),
            "es": (
                "Buenas, el pedido {order} debía llegar la semana pasada y el seguimiento no "
                "se mueve desde hace {days} días. ¿Qué ha pasado?",
            ),
            "de": (
                "Hallo, meine Bestellung {order} sollte längst da sein. Die Sendungsverfolgung "
                "zeigt seit {days} Tagen keinen neuen Status.",
            ),
            "fr": (
                "Bonjour, ma commande {order} devait arriver il y a plusieurs jours et le suivi "
                "n'a pas bougé depuis {days} jours. Est-elle perdue ?",
            ),
        },
        replies={
            "en": (
                "Hi {first}, I'm sorry about the wait. The carrier confirmed that your parcel "
                "missed a connection at their hub; it is back on the road and should be with "
                "you within two working days.",
                "Hi {first}, the parcel for {order} looks lost in the carrier's network. I have "
                "sent a replacement by express at no cost; you'll get new tracking by email.",
            ),
            "es": (
                "Hola {first}, disculpa el retraso. La empresa de transporte nos confirma que "
                "el paquete sale hoy de nuevo; lo tendrás en dos días hábiles.",
            ),
            "de": (
                "Hallo {first}, entschuldigen Sie die Verzögerung. Das Paket hing im Depot fest "
                "und ist jetzt wieder unterwegs, Zustellung in zwei Werktagen.",
            ),
            "fr": (
                "Bonjour {first}, désolé pour ce retard. Le transporteur a retrouvé le colis, "
                "il vous sera livré sous deux jours ouvrés.",
            ),
        },
        followups={
            "en": ("It turned up today, thank you!",
                   "Still nothing. I'd rather cancel and get my money back at this point."),
            "es": ("Ya ha llegado, gracias.",),
            "de": ("Ist heute angekommen, danke!",),
            "fr": ("Le colis est arrivé, merci !",),
        },
        notes=("Carrier claim opened, ref in the shipping tool.",
               "Second late parcel for this postcode this week - flagged to logistics."),
    ),
    Family(
        key="damaged",
        team="Shipping",
        tags=("damaged", "replacement"),
        priorities=(0, 5, 3, 0),
        weight=10,
        subjects={
            "en": ("{product} arrived broken", "Damaged item in my parcel",
                   "Cracked on arrival - order {order}"),
            "es": ("El {product} llegó roto",),
            "de": ("{product} beschädigt angekommen",),
            "fr": ("{product} arrivé cassé",),
        },
        openers={
            "en": (
                "The {product} from order {order} arrived today with a crack down the side. The "
                "box was dented too. I've attached nothing yet but can send photos.",
                "Opened my parcel and the {product} is in pieces. Packing was one thin layer of "
                "paper. Not happy.",
            ),
            "es": ("El {product} del pedido {order} llegó con un golpe y no funciona.",),
            "de": ("Der {product} aus Bestellung {order} kam mit einem Sprung an.",),
            "fr": ("Le {product} de la commande {order} est arrivé fêlé.",),
        },
        replies={
            "en": (
                "Hi {first}, sorry it reached you like that. No need to send it back: a "
                "replacement {product} leaves our warehouse today. A photo would still help us "
                "improve the packing, if you have a minute.",
                "Hi {first}, thanks for the photos. I've refunded {order} in full and you can "
                "keep or recycle the damaged item.",
            ),
            "es": ("Hola {first}, lo sentimos mucho. Te enviamos hoy mismo un {product} nuevo.",),
            "de": ("Hallo {first}, das tut uns leid. Ein neuer {product} geht heute raus.",),
            "fr": ("Bonjour {first}, toutes nos excuses. Un nouveau {product} part aujourd'hui.",),
        },
        followups={
            "en": ("Photos attached as requested.", "Replacement arrived in one piece, thanks."),
        },
        notes=("Packing station 3 again - third breakage this month.",),
    ),
    Family(
        key="login",
        team="Technical",
        tags=("account", "login"),
        priorities=(0, 5, 3, 1),
        weight=10,
        needs_order=False,
        subjects={
            "en": ("Password reset email never arrives", "Locked out of my account"),
            "es": ("No puedo entrar en mi cuenta",),
            "de": ("Anmeldung funktioniert nicht",),
            "fr": ("Impossible de me connecter",),
        },
        openers={
            "en": (
                "I've requested a password reset three times and no email arrives, not even in "
                "spam. I need to check an order.",
                "The site says my password is wrong, then that my account is locked. I haven't "
                "changed anything.",
            ),
            "es": ("Intento restablecer la contraseña pero no me llega ningún correo.",),
            "de": ("Ich bekomme keine E-Mail zum Zurücksetzen des Passworts.",),
            "fr": ("Je ne reçois pas l'e-mail de réinitialisation du mot de passe.",),
        },
        replies={
            "en": (
                "Hi {first}, our emails to your address were bouncing because the mailbox was "
                "full at some point. I've cleared the block - please request the reset again.",
                "Hi {first}, your account was locked after several failed attempts. I've "
                "unlocked it; the reset link I just sent is valid for one hour.",
            ),
            "es": ("Hola {first}, he desbloqueado tu cuenta; prueba de nuevo el enlace.",),
            "de": ("Hallo {first}, ich habe Ihr Konto entsperrt. Bitte erneut versuchen.",),
            "fr": ("Bonjour {first}, j'ai débloqué votre compte, vous pouvez réessayer.",),
        },
        followups={"en": ("That worked, I'm in. Thanks!", "Still the same error, sorry.")},
        notes=("Address was on the suppression list after a bounce; removed.",),
    ),
    Family(
        key="billing",
        team="Billing",
        tags=("billing", "invoice"),
        priorities=(1, 6, 2, 0),
        weight=10,
        subjects={
            "en": ("Charged twice for {order}", "Need a VAT invoice for {order}"),
            "es": ("Me han cobrado dos veces",),
            "de": ("Rechnung mit Umsatzsteuer benötigt",),
            "fr": ("Double prélèvement sur ma carte",),
        },
        openers={
            "en": (
                "My bank statement shows two charges for order {order}. I only placed it once.",
                "Could you send an invoice for {order} with our company name and VAT number? "
                "Accounts need it for the month end.",
            ),
            "es": ("En mi cuenta aparecen dos cargos por el pedido {order}.",),
            "de": ("Bitte senden Sie mir eine Rechnung für {order} mit unserer USt-IdNr.",),
            "fr": ("Ma carte a été débitée deux fois pour la commande {order}.",),
        },
        replies={
            "en": (
                "Hi {first}, the second line is a pre-authorisation, not a charge; your bank "
                "will release it within a few days. Only one payment was taken for {order}.",
                "Hi {first}, the invoice for {order} with your VAT number is attached to this "
                "reply. Let me know if anything on it needs changing.",
            ),
            "es": ("Hola {first}, el segundo cargo es una preautorización y desaparecerá.",),
            "de": ("Hallo {first}, die Rechnung für {order} finden Sie im Anhang.",),
            "fr": ("Bonjour {first}, le second débit est une pré-autorisation temporaire.",),
        },
        followups={"en": ("Got it, thanks for explaining.",)},
        notes=("Checked in the payment console: one capture, one expired auth.",),
    ),
    Family(
        key="bug",
        team="Technical",
        tags=("bug", "website"),
        priorities=(0, 4, 4, 2),
        weight=7,
        needs_order=False,
        subjects={
            "en": ("Checkout page freezes when I pay", "App crashes when I open my orders"),
            "de": ("Fehler beim Bezahlen",),
        },
        openers={
            "en": (
                "When I click 'Pay now' the page just spins forever. Tried two browsers.",
                "The mobile app closes as soon as I tap 'My orders'. Android 14, latest app "
                "version.",
            ),
            "de": ("Beim Bezahlen bleibt die Seite hängen, in zwei Browsern getestet.",),
        },
        replies={
            "en": (
                "Hi {first}, our developers found the cause (a timeout with one payment "
                "provider). Until the fix ships, paying by card instead of wallet works.",
                "Hi {first}, thanks for the detail, it helped us reproduce it. A fix went out "
                "this afternoon; could you update the app and tell me if it works?",
            ),
            "de": ("Hallo {first}, danke für den Hinweis, der Fehler ist inzwischen behoben.",),
        },
        followups={"en": ("Works now, thanks.", "Still crashing on my side.")},
        notes=("Reproduced on staging, ticket linked to the engineering board.",
               "Same stack trace as last week's incident."),
    ),
    Family(
        key="howto",
        team="Technical",
        tags=("how-to",),
        priorities=(4, 5, 0, 0),
        weight=9,
        subjects={
            "en": ("How do I set up the {product}?", "Can the {product} go in the dishwasher?"),
            "es": ("¿Cómo se limpia el {product}?",),
            "fr": ("Comment changer mon adresse de livraison ?",),
        },
        openers={
            "en": (
                "I got the {product} and can't find how to set it up with the app. The leaflet "
                "only has pictures.",
                "Is it safe to put the {product} in the dishwasher? The box doesn't say.",
            ),
            "es": ("¿Se puede meter el {product} en el lavavajillas?",),
            "fr": ("Bonjour, je voudrais livrer la commande {order} à une autre adresse.",),
        },
        replies={
            "en": (
                "Hi {first}, hold the button for five seconds until the light blinks blue, then "
                "choose 'Add device' in the app. Our help centre has a short video too.",
                "Hi {first}, yes, the top rack is fine; avoid the bottom rack, it gets too hot.",
            ),
            "es": ("Hola {first}, sí, en la bandeja superior del lavavajillas no hay problema.",),
            "fr": ("Bonjour {first}, c'est fait : la commande {order} partira à la nouvelle "
                   "adresse.",),
        },
        followups={"en": ("Perfect, that did it.",)},
        notes=("Could become a help-centre article; third time this week.",),
    ),
    Family(
        key="praise",
        team="Shipping",
        tags=("praise",),
        priorities=(8, 2, 0, 0),
        weight=4,
        needs_order=False,
        subjects={
            "en": ("Just wanted to say thanks", "Great service"),
            "es": ("¡Muchas gracias!",),
            "fr": ("Merci beaucoup",),
        },
        openers={
            "en": (
                "Your colleague sorted out my replacement in one email last week. The {product} "
                "is lovely. Thank you!",
                "Fastest delivery I've ever had, and the packaging was plastic-free. Keep it up.",
            ),
            "es": ("Solo quería daros las gracias, el {product} es precioso.",),
            "fr": ("Juste un mot pour vous remercier, le {product} est parfait.",),
        },
        replies={
            "en": ("Thank you {first}, that made our day. I've passed it on to the team.",),
            "es": ("¡Gracias {first}! Se lo hemos contado a todo el equipo.",),
            "fr": ("Merci {first}, toute l'équipe est ravie !",),
        },
    ),
    Family(
        key="complaint",
        team="Billing",
        tags=("complaint", "escalated"),
        priorities=(0, 3, 5, 2),
        weight=6,
        subjects={
            "en": ("Very disappointed", "This is the third time I'm writing",
                   "Formal complaint about order {order}"),
            "de": ("Beschwerde zu Bestellung {order}",),
        },
        openers={
            "en": (
                "I've written three times about {order} and every answer contradicts the last. "
                "I want someone to take ownership of this.",
                "The {product} stopped working after a month and I was told to pay for the "
                "return postage. That's not acceptable for a faulty item.",
            ),
            "de": ("Ich habe schon dreimal wegen {order} geschrieben und keine Lösung erhalten.",),
        },
        replies={
            "en": (
                "Hi {first}, you're right, and I'm sorry. I'll handle {order} personally from "
                "here: a prepaid label is attached and the refund goes out the day it's "
                "scanned.",
            ),
            "de": ("Hallo {first}, Sie haben recht. Ich kümmere mich ab jetzt persönlich darum.",),
        },
        followups={"en": ("Thank you, that's all I wanted.",
                          "I'll wait and see, but I'm not impressed.")},
        notes=("Supervisor approved a goodwill voucher of 15 EUR.",
               "Previous replies gave wrong return policy - coaching note sent."),
    ),
    Family(
        key="cancellation",
        team="Billing",
        tags=("cancellation",),
        priorities=(1, 5, 3, 0),
        weight=7,
        subjects={
            "en": ("Please cancel order {order}", "Cancel before it ships?"),
            "es": ("Cancelar el pedido {order}",),
            "de": ("Bestellung {order} stornieren",),
            "fr": ("Annuler la commande {order}",),
        },
        openers={
            "en": (
                "I ordered the wrong size by mistake. Can you cancel {order} before it ships?",
                "Please cancel {order}, I found the {product} locally.",
            ),
            "es": ("Por favor, cancelad el pedido {order}, me equivoqué de modelo.",),
            "de": ("Bitte stornieren Sie {order}, ich habe mich vertan.",),
            "fr": ("Merci d'annuler la commande {order}, je me suis trompé d'article.",),
        },
        replies={
            "en": (
                "Hi {first}, caught it in time: {order} is cancelled and the payment was never "
                "captured.",
                "Hi {first}, {order} had already left the warehouse, so I can't cancel it, but "
                "you can refuse the delivery or return it free within 30 days.",
            ),
            "es": ("Hola {first}, el pedido {order} está cancelado.",),
            "de": ("Hallo {first}, {order} ist storniert.",),
            "fr": ("Bonjour {first}, la commande {order} est annulée.",),
        },
        followups={"en": ("Great, thanks for the quick answer.",)},
    ),
)

def variant(
    pool: tuple[str, ...], family: Family, language: str, index: int, rng: random.Random
) -> str:
    """The text of ``pool`` that goes with opener ``index``, or any of them when the pool is
    not written as parallel variants."""
    if len(pool) == len(family.openers[language]):
        return pool[index]
    return rng.choice(pool)


# Short lines agents write when they hand a ticket on or wait for someone.
GENERIC_NOTES = (
    "Waiting on the warehouse to confirm stock.",
    "Customer called as well, same issue - merged the details here.",
    "Checked order history: loyal customer, 6 orders this year.",
    "Asked the carrier for proof of delivery.",
)

# What customers write when they chase an open ticket.
GENERIC_FOLLOWUPS: dict[str, tuple[str, ...]] = {
    "en": ("Any news on this?", "Just checking in - is there an update?",
           "I replied to your email yesterday, did you get it?"),
    "es": ("¿Hay alguna novedad?", "Sigo esperando respuesta, gracias."),
    "de": ("Gibt es schon Neuigkeiten?", "Ich warte noch auf eine Antwort."),
    "fr": ("Avez-vous du nouveau ?", "Je reviens vers vous, toujours rien de mon côté."),
}

SIGN_OFF: dict[str, str] = {
    "en": "Best wishes,\n{agent}\nNorthwind Home support",
    "es": "Un saludo,\n{agent}\nAtención al cliente de Northwind Home",
    "de": "Viele Grüße\n{agent}\nNorthwind Home Kundenservice",
    "fr": "Bien cordialement,\n{agent}\nService client Northwind Home",
}

# The demo team: (name, email, team, role, restricted to her team).
AGENTS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("Ruth Adeyemi", "ruth@demo.helpline.test", "Billing", "supervisor", False),
    ("Marco Bellini", "marco@demo.helpline.test", "Billing", "agent", False),
    ("Lea Vogel", "lea@demo.helpline.test", "Billing", "agent", True),
    ("Sam Okoro", "sam@demo.helpline.test", "Technical", "agent", False),
    ("Priya Raman", "priya@demo.helpline.test", "Technical", "agent", False),
    ("Tom Hartley", "tom@demo.helpline.test", "Technical", "agent", False),
    ("Inés Duarte", "ines@demo.helpline.test", "Shipping", "agent", False),
    ("Jonas Berg", "jonas@demo.helpline.test", "Shipping", "agent", False),
    ("Chloé Martin", "chloe@demo.helpline.test", "Shipping", "agent", False),
)

CITIES = ("Leeds", "Bristol", "Madrid", "Sevilla", "Berlin", "Hamburg", "Lyon", "Paris",
          "Dublin", "Amsterdam", "Glasgow", "Valencia", "Munich", "Nantes")
