"""The words of the public's BE-Alert pages (web/public_pages.py), in the four languages of
Belgium's public: French, Dutch, German, English. One table, so that a missing translation is
a test failure (tests/test_public_registrations.py checks every key has all four)."""

from __future__ import annotations

PUBLIC_LANGS = ("fr", "nl", "de", "en")

LANGUAGE_NAMES = {"fr": "Français", "nl": "Nederlands", "de": "Deutsch", "en": "English"}

TEXT: dict[str, dict[str, str]] = {
    "title": {
        "fr": "Inscription à BE-Alert",
        "nl": "Inschrijving bij BE-Alert",
        "de": "Anmeldung bei BE-Alert",
        "en": "Register for BE-Alert",
    },
    "intro": {
        "fr": "Recevez les alertes des autorités pour les lieux qui vous importent (domicile, "
        "travail, école…), par SMS, appel vocal ou e-mail.",
        "nl": "Ontvang de waarschuwingen van de overheid voor de plaatsen die voor u belangrijk "
        "zijn (thuis, werk, school…), per sms, gesproken oproep of e-mail.",
        "de": "Erhalten Sie die Warnungen der Behörden für die Orte, die Ihnen wichtig sind "
        "(Zuhause, Arbeit, Schule…), per SMS, Sprachanruf oder E-Mail.",
        "en": "Receive the authorities' alerts for the places that matter to you (home, work, "
        "school…), by text message, voice call or e-mail.",
    },
    "switch": {
        "fr": "Langue de la page",
        "nl": "Taal van de pagina",
        "de": "Sprache der Seite",
        "en": "Page language",
    },
    "language": {
        "fr": "Langue des messages",
        "nl": "Taal van de berichten",
        "de": "Sprache der Nachrichten",
        "en": "Language of the messages",
    },
    "channels": {
        "fr": "Comment vous joindre (au moins un moyen)",
        "nl": "Hoe wij u bereiken (minstens één manier)",
        "de": "Wie wir Sie erreichen (mindestens ein Weg)",
        "en": "How to reach you (at least one way)",
    },
    "sms": {
        "fr": "Numéro de GSM pour les SMS",
        "nl": "Gsm-nummer voor sms",
        "de": "Handynummer für SMS",
        "en": "Mobile number for text messages",
    },
    "voice": {
        "fr": "Numéro pour les appels vocaux",
        "nl": "Nummer voor gesproken oproepen",
        "de": "Nummer für Sprachanrufe",
        "en": "Number for voice calls",
    },
    "phone_hint": {
        "fr": "Format international, par exemple +32470123456",
        "nl": "Internationaal formaat, bijvoorbeeld +32470123456",
        "de": "Internationales Format, zum Beispiel +32470123456",
        "en": "International format, for example +32470123456",
    },
    "email": {
        "fr": "Adresse e-mail",
        "nl": "E-mailadres",
        "de": "E-Mail-Adresse",
        "en": "E-mail address",
    },
    "places": {
        "fr": "Vos lieux (1 à 5)",
        "nl": "Uw plaatsen (1 tot 5)",
        "de": "Ihre Orte (1 bis 5)",
        "en": "Your places (1 to 5)",
    },
    "places_hint": {
        "fr": "Un nom et la latitude et longitude de chaque lieu; ou cliquez sur la carte.",
        "nl": "Een naam en de breedte- en lengtegraad van elke plaats; of klik op de kaart.",
        "de": "Ein Name und Breiten- und Längengrad jedes Ortes; oder klicken Sie auf die Karte.",
        "en": "A name and the latitude and longitude of each place; or click on the map.",
    },
    "map_hint": {
        "fr": "Cliquez sur la carte pour ajouter un lieu.",
        "nl": "Klik op de kaart om een plaats toe te voegen.",
        "de": "Klicken Sie auf die Karte, um einen Ort hinzuzufügen.",
        "en": "Click on the map to add a place.",
    },
    "place": {"fr": "Lieu", "nl": "Plaats", "de": "Ort", "en": "Place"},
    "label": {"fr": "Nom", "nl": "Naam", "de": "Name", "en": "Name"},
    "lat": {"fr": "Latitude", "nl": "Breedtegraad", "de": "Breitengrad", "en": "Latitude"},
    "lon": {"fr": "Longitude", "nl": "Lengtegraad", "de": "Längengrad", "en": "Longitude"},
    "home": {"fr": "Domicile", "nl": "Thuis", "de": "Zuhause", "en": "Home"},
    "privacy": {
        "fr": "Vos coordonnées ne servent qu'à vous alerter. Chaque message contient un lien "
        "pour vous désinscrire.",
        "nl": "Uw gegevens dienen enkel om u te waarschuwen. Elk bericht bevat een link om u "
        "uit te schrijven.",
        "de": "Ihre Angaben dienen nur dazu, Sie zu warnen. Jede Nachricht enthält einen Link "
        "zum Abmelden.",
        "en": "Your details are only used to alert you. Every message has a link to unsubscribe.",
    },
    "submit": {
        "fr": "M'inscrire",
        "nl": "Inschrijven",
        "de": "Anmelden",
        "en": "Register",
    },
    "confirm_title": {
        "fr": "Confirmez votre inscription",
        "nl": "Bevestig uw inschrijving",
        "de": "Bestätigen Sie Ihre Anmeldung",
        "en": "Confirm your registration",
    },
    "confirm_sms": {
        "fr": "Nous vous avons envoyé un code à 6 chiffres par SMS.",
        "nl": "We hebben u een code van 6 cijfers per sms gestuurd.",
        "de": "Wir haben Ihnen einen 6-stelligen Code per SMS geschickt.",
        "en": "We sent you a 6-digit code by text message.",
    },
    "confirm_voice": {
        "fr": "Nous allons vous appeler pour vous lire un code à 6 chiffres.",
        "nl": "We bellen u om een code van 6 cijfers voor te lezen.",
        "de": "Wir rufen Sie an und lesen Ihnen einen 6-stelligen Code vor.",
        "en": "We will call you and read out a 6-digit code.",
    },
    "confirm_email": {
        "fr": "Nous vous avons envoyé un code à 6 chiffres par e-mail.",
        "nl": "We hebben u een code van 6 cijfers per e-mail gestuurd.",
        "de": "Wir haben Ihnen einen 6-stelligen Code per E-Mail geschickt.",
        "en": "We sent you a 6-digit code by e-mail.",
    },
    "confirm_valid": {
        "fr": "Le code est valable 30 minutes.",
        "nl": "De code is 30 minuten geldig.",
        "de": "Der Code ist 30 Minuten gültig.",
        "en": "The code is valid for 30 minutes.",
    },
    "code": {
        "fr": "Code de confirmation",
        "nl": "Bevestigingscode",
        "de": "Bestätigungscode",
        "en": "Confirmation code",
    },
    "confirm": {"fr": "Confirmer", "nl": "Bevestigen", "de": "Bestätigen", "en": "Confirm"},
    "done_title": {
        "fr": "Inscription confirmée",
        "nl": "Inschrijving bevestigd",
        "de": "Anmeldung bestätigt",
        "en": "Registration confirmed",
    },
    "done": {
        "fr": "Merci. Vous recevrez les alertes BE-Alert pour vos lieux.",
        "nl": "Dank u. U ontvangt de BE-Alert-waarschuwingen voor uw plaatsen.",
        "de": "Danke. Sie erhalten die BE-Alert-Warnungen für Ihre Orte.",
        "en": "Thank you. You will receive BE-Alert alerts for your places.",
    },
    "unsubscribe_title": {
        "fr": "Se désinscrire de BE-Alert",
        "nl": "Uitschrijven bij BE-Alert",
        "de": "Von BE-Alert abmelden",
        "en": "Unsubscribe from BE-Alert",
    },
    "unsubscribe": {
        "fr": "Votre inscription, vos lieux et vos coordonnées seront supprimés. Vous ne "
        "recevrez plus d'alertes.",
        "nl": "Uw inschrijving, uw plaatsen en uw gegevens worden verwijderd. U ontvangt geen "
        "waarschuwingen meer.",
        "de": "Ihre Anmeldung, Ihre Orte und Ihre Angaben werden gelöscht. Sie erhalten keine "
        "Warnungen mehr.",
        "en": "Your registration, your places and your details will be deleted. You will no "
        "longer receive alerts.",
    },
    "unsubscribe_button": {
        "fr": "Supprimer mon inscription",
        "nl": "Mijn inschrijving verwijderen",
        "de": "Meine Anmeldung löschen",
        "en": "Delete my registration",
    },
    "unsubscribed_title": {
        "fr": "Inscription supprimée",
        "nl": "Inschrijving verwijderd",
        "de": "Anmeldung gelöscht",
        "en": "Registration deleted",
    },
    "unsubscribed": {
        "fr": "Votre inscription et vos données ont été supprimées.",
        "nl": "Uw inschrijving en uw gegevens zijn verwijderd.",
        "de": "Ihre Anmeldung und Ihre Daten wurden gelöscht.",
        "en": "Your registration and your data have been deleted.",
    },
    "again": {
        "fr": "Nouvelle inscription",
        "nl": "Nieuwe inschrijving",
        "de": "Neue Anmeldung",
        "en": "Register again",
    },
    # errors, by the contract's codes and the fields
    "err_invalid": {
        "fr": "Vérifiez les champs du formulaire.",
        "nl": "Controleer de velden van het formulier.",
        "de": "Bitte prüfen Sie die Felder des Formulars.",
        "en": "Please check the form's fields.",
    },
    "err_language": {
        "fr": "Choisissez la langue des messages.",
        "nl": "Kies de taal van de berichten.",
        "de": "Wählen Sie die Sprache der Nachrichten.",
        "en": "Choose the language of the messages.",
    },
    "err_phone": {
        "fr": "Le numéro doit être au format international, par exemple +32470123456.",
        "nl": "Het nummer moet in internationaal formaat zijn, bijvoorbeeld +32470123456.",
        "de": "Die Nummer muss im internationalen Format sein, zum Beispiel +32470123456.",
        "en": "The number must be in international format, for example +32470123456.",
    },
    "err_email": {
        "fr": "Cette adresse e-mail n'est pas valide.",
        "nl": "Dit e-mailadres is niet geldig.",
        "de": "Diese E-Mail-Adresse ist ungültig.",
        "en": "This e-mail address is not valid.",
    },
    "err_channel": {
        "fr": "Indiquez au moins un numéro ou une adresse e-mail.",
        "nl": "Geef minstens één nummer of e-mailadres op.",
        "de": "Geben Sie mindestens eine Nummer oder E-Mail-Adresse an.",
        "en": "Give at least one number or e-mail address.",
    },
    "err_places": {
        "fr": "Indiquez de 1 à 5 lieux, chacun avec un nom, une latitude et une longitude.",
        "nl": "Geef 1 tot 5 plaatsen op, elk met een naam, breedte- en lengtegraad.",
        "de": "Geben Sie 1 bis 5 Orte an, jeweils mit Name, Breiten- und Längengrad.",
        "en": "Give 1 to 5 places, each with a name, a latitude and a longitude.",
    },
    "err_too_large": {
        "fr": "Un des champs est trop long.",
        "nl": "Een van de velden is te lang.",
        "de": "Eines der Felder ist zu lang.",
        "en": "One of the fields is too long.",
    },
    "err_rate_limited": {
        "fr": "Trop de demandes. Réessayez plus tard.",
        "nl": "Te veel aanvragen. Probeer het later opnieuw.",
        "de": "Zu viele Anfragen. Versuchen Sie es später erneut.",
        "en": "Too many requests. Try again later.",
    },
    "err_not_found": {
        "fr": "Cette inscription n'existe pas ou plus.",
        "nl": "Deze inschrijving bestaat niet (meer).",
        "de": "Diese Anmeldung existiert nicht (mehr).",
        "en": "This registration does not exist (any more).",
    },
    "err_wrong_code": {
        "fr": "Ce code n'est pas le bon.",
        "nl": "Deze code is niet juist.",
        "de": "Dieser Code ist nicht richtig.",
        "en": "This code is not the right one.",
    },
    "err_no_tries": {
        "fr": "Trop de codes erronés : inscrivez-vous à nouveau.",
        "nl": "Te veel foute codes: schrijf u opnieuw in.",
        "de": "Zu viele falsche Codes: Bitte melden Sie sich neu an.",
        "en": "Too many wrong codes: please register again.",
    },
    "err_expired": {
        "fr": "Le code a expiré : inscrivez-vous à nouveau.",
        "nl": "De code is verlopen: schrijf u opnieuw in.",
        "de": "Der Code ist abgelaufen: Bitte melden Sie sich neu an.",
        "en": "The code has expired: please register again.",
    },
    "err_forbidden": {
        "fr": "Ce formulaire doit être envoyé depuis le site de BE-Alert.",
        "nl": "Dit formulier moet vanaf de BE-Alert-site worden verzonden.",
        "de": "Dieses Formular muss von der BE-Alert-Website gesendet werden.",
        "en": "This form must be sent from the BE-Alert site.",
    },
    "err_unavailable": {
        "fr": "Service momentanément indisponible. Réessayez dans un instant.",
        "nl": "Dienst tijdelijk niet beschikbaar. Probeer het zo dadelijk opnieuw.",
        "de": "Dienst vorübergehend nicht verfügbar. Versuchen Sie es gleich noch einmal.",
        "en": "Service temporarily unavailable. Try again in a moment.",
    },
}


def texts(lang: str) -> dict[str, str]:
    """Every text of the pages in `lang` (one of PUBLIC_LANGS)."""
    return {key: by_lang[lang] for key, by_lang in TEXT.items()}
