# ruff: noqa: RUF001 - the Russian texts are written in Cyrillic
"""What a statement of reasons says to the affected user, in each language Vigil speaks to users.

Placeholders in braces are filled by :func:`vigil.transparency.sor.render_notice`; every language
holds the same keys with the same placeholders (a unit test holds them to it). The enumeration
keys are the DSA database's own values, so a statement's fields pick their sentence directly.
Names of the DSA categories follow the database's English labels.

Text that comes from the decision itself (the legal reference, the explanation, the facts) is
written once, by the policy's author or the authority, and shown as it was written.
"""

from __future__ import annotations

from types import MappingProxyType

from vigil.domain.taxonomy import StatementCategory

DEFAULT_LANGUAGE = "en"

_EN = {
    "title": "Statement of reasons",
    "intro": "On {date} we took the following decision about your content {content_id} (reference {reference}):",
    "DECISION_VISIBILITY_CONTENT_REMOVED": "The content was removed.",
    "DECISION_VISIBILITY_CONTENT_DISABLED": "Access to the content was disabled.",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "The content is ranked lower and shown to fewer people.",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": "The content is no longer shown to minors.",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": "Interaction with the content was restricted.",
    "DECISION_VISIBILITY_CONTENT_LABELLED": "A label was added to the content.",
    "DECISION_VISIBILITY_OTHER": "The visibility of the content was restricted.",
    "DECISION_ACCOUNT_SUSPENDED": "The account was suspended.",
    "DECISION_ACCOUNT_TERMINATED": "The account or channel was terminated.",
    "scope_global": "This applies in every country.",
    "scope_countries": "This applies only in these countries: {countries}.",
    "DECISION_GROUND_ILLEGAL_CONTENT": "Why: we consider the content illegal under {reference}.",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": "Why: the content is incompatible with our terms and conditions"
    " ({reference}).",
    "explanation": "Explanation: {explanation}",
    "category": "Category: {category}.",
    "SOURCE_VOLUNTARY": "We found the content on our own initiative.",
    "SOURCE_ARTICLE_16": "We acted on a notice about the content (Article 16 DSA).",
    "SOURCE_TRUSTED_FLAGGER": "We acted on a notice from a trusted flagger (Article 22 DSA).",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "We acted on an order of a public authority.",
    "source_identity": "Notice or order from: {identity}.",
    "detection_Yes": "The content was detected by automated means.",
    "detection_No": "The content was not detected by automated means.",
    "AUTOMATED_DECISION_FULLY": "The decision was taken by automated means.",
    "AUTOMATED_DECISION_PARTIALLY": "The decision was taken partly by automated means.",
    "AUTOMATED_DECISION_NOT_AUTOMATED": "A person took the decision.",
    "facts": "Details: {facts}",
    "redress_title": "How to challenge this decision",
    "redress_internal": "Complain to us free of charge through the platform until at least {until}"
    " (internal complaint handling, Article 20 DSA).",
    "redress_out_of_court": "Refer the dispute to a certified out-of-court dispute settlement body"
    " (Article 21 DSA).",
    "redress_court": "Bring the matter before a court under the law of your country.",
    "state_revoked": "On {date} this decision was reversed: the restriction has been lifted.",
    "state_superseded": "On {date} this decision was replaced by a new decision (reference {reference});"
    " its statement of reasons applies.",
}

_FR = {
    "title": "Exposé des motifs",
    "intro": "Le {date}, nous avons pris la décision suivante concernant votre contenu {content_id}"
    " (référence {reference}) :",
    "DECISION_VISIBILITY_CONTENT_REMOVED": "Le contenu a été supprimé.",
    "DECISION_VISIBILITY_CONTENT_DISABLED": "L'accès au contenu a été bloqué.",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "Le contenu est moins bien classé et montré à moins de personnes.",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": "Le contenu n'est plus montré aux mineurs.",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": "Les interactions avec le contenu ont été restreintes.",
    "DECISION_VISIBILITY_CONTENT_LABELLED": "Une étiquette a été ajoutée au contenu.",
    "DECISION_VISIBILITY_OTHER": "La visibilité du contenu a été restreinte.",
    "DECISION_ACCOUNT_SUSPENDED": "Le compte a été suspendu.",
    "DECISION_ACCOUNT_TERMINATED": "Le compte ou la chaîne a été fermé.",
    "scope_global": "Cela s'applique dans tous les pays.",
    "scope_countries": "Cela s'applique uniquement dans ces pays : {countries}.",
    "DECISION_GROUND_ILLEGAL_CONTENT": "Motif : nous considérons le contenu comme illégal au regard de"
    " {reference}.",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": "Motif : le contenu est incompatible avec nos conditions"
    " générales ({reference}).",
    "explanation": "Explication : {explanation}",
    "category": "Catégorie : {category}.",
    "SOURCE_VOLUNTARY": "Nous avons détecté le contenu de notre propre initiative.",
    "SOURCE_ARTICLE_16": "Nous avons agi à la suite d'un signalement du contenu (article 16 du DSA).",
    "SOURCE_TRUSTED_FLAGGER": "Nous avons agi à la suite d'un signalement d'un signaleur de confiance"
    " (article 22 du DSA).",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "Nous avons agi sur injonction d'une autorité publique.",
    "source_identity": "Signalement ou injonction de : {identity}.",
    "detection_Yes": "Le contenu a été détecté par des moyens automatisés.",
    "detection_No": "Le contenu n'a pas été détecté par des moyens automatisés.",
    "AUTOMATED_DECISION_FULLY": "La décision a été prise par des moyens automatisés.",
    "AUTOMATED_DECISION_PARTIALLY": "La décision a été prise en partie par des moyens automatisés.",
    "AUTOMATED_DECISION_NOT_AUTOMATED": "La décision a été prise par une personne.",
    "facts": "Détails (en anglais) : {facts}",
    "redress_title": "Comment contester cette décision",
    "redress_internal": "Déposez gratuitement une réclamation auprès de nous via la plateforme, au moins"
    " jusqu'au {until} (système interne de traitement des réclamations, article 20 du DSA).",
    "redress_out_of_court": "Soumettez le litige à un organe de règlement extrajudiciaire des litiges"
    " certifié (article 21 du DSA).",
    "redress_court": "Saisissez une juridiction conformément au droit de votre pays.",
    "state_revoked": "Le {date}, cette décision a été annulée : la restriction a été levée.",
    "state_superseded": "Le {date}, cette décision a été remplacée par une nouvelle décision (référence"
    " {reference}) ; son exposé des motifs s'applique.",
}

_DE = {
    "title": "Begründung",
    "intro": "Am {date} haben wir zu Ihrem Inhalt {content_id} (Aktenzeichen {reference}) folgende"
    " Entscheidung getroffen:",
    "DECISION_VISIBILITY_CONTENT_REMOVED": "Der Inhalt wurde entfernt.",
    "DECISION_VISIBILITY_CONTENT_DISABLED": "Der Zugang zum Inhalt wurde gesperrt.",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "Der Inhalt wird herabgestuft und weniger Personen angezeigt.",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": "Der Inhalt wird Minderjährigen nicht mehr angezeigt.",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": "Interaktionen mit dem Inhalt wurden eingeschränkt.",
    "DECISION_VISIBILITY_CONTENT_LABELLED": "Der Inhalt wurde mit einem Hinweis versehen.",
    "DECISION_VISIBILITY_OTHER": "Die Sichtbarkeit des Inhalts wurde eingeschränkt.",
    "DECISION_ACCOUNT_SUSPENDED": "Das Konto wurde vorübergehend gesperrt.",
    "DECISION_ACCOUNT_TERMINATED": "Das Konto oder der Kanal wurde geschlossen.",
    "scope_global": "Dies gilt in allen Ländern.",
    "scope_countries": "Dies gilt nur in diesen Ländern: {countries}.",
    "DECISION_GROUND_ILLEGAL_CONTENT": "Grund: Wir halten den Inhalt für rechtswidrig nach {reference}.",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": "Grund: Der Inhalt ist mit unseren Nutzungsbedingungen"
    " unvereinbar ({reference}).",
    "explanation": "Erläuterung: {explanation}",
    "category": "Kategorie: {category}.",
    "SOURCE_VOLUNTARY": "Wir haben den Inhalt aus eigener Initiative gefunden.",
    "SOURCE_ARTICLE_16": "Wir haben aufgrund einer Meldung des Inhalts gehandelt (Artikel 16 DSA).",
    "SOURCE_TRUSTED_FLAGGER": "Wir haben aufgrund der Meldung eines vertrauenswürdigen Hinweisgebers"
    " gehandelt (Artikel 22 DSA).",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "Wir haben aufgrund einer behördlichen Anordnung gehandelt.",
    "source_identity": "Meldung oder Anordnung von: {identity}.",
    "detection_Yes": "Der Inhalt wurde mit automatisierten Mitteln erkannt.",
    "detection_No": "Der Inhalt wurde nicht mit automatisierten Mitteln erkannt.",
    "AUTOMATED_DECISION_FULLY": "Die Entscheidung wurde mit automatisierten Mitteln getroffen.",
    "AUTOMATED_DECISION_PARTIALLY": "Die Entscheidung wurde teilweise mit automatisierten Mitteln getroffen.",
    "AUTOMATED_DECISION_NOT_AUTOMATED": "Die Entscheidung hat ein Mensch getroffen.",
    "facts": "Einzelheiten (auf Englisch): {facts}",
    "redress_title": "So können Sie die Entscheidung anfechten",
    "redress_internal": "Beschweren Sie sich kostenlos über die Plattform bei uns, mindestens bis zum"
    " {until} (internes Beschwerdemanagement, Artikel 20 DSA).",
    "redress_out_of_court": "Legen Sie die Streitigkeit einer zertifizierten außergerichtlichen"
    " Streitbeilegungsstelle vor (Artikel 21 DSA).",
    "redress_court": "Rufen Sie nach dem Recht Ihres Landes ein Gericht an.",
    "state_revoked": "Am {date} wurde diese Entscheidung rückgängig gemacht: Die Beschränkung besteht nicht"
    " mehr.",
    "state_superseded": "Am {date} wurde diese Entscheidung durch eine neue Entscheidung ersetzt"
    " (Aktenzeichen {reference}); es gilt deren Begründung.",
}

_ES = {
    "title": "Exposición de motivos",
    "intro": "El {date} tomamos la siguiente decisión sobre su contenido {content_id} (referencia"
    " {reference}):",
    "DECISION_VISIBILITY_CONTENT_REMOVED": "El contenido se ha eliminado.",
    "DECISION_VISIBILITY_CONTENT_DISABLED": "Se ha bloqueado el acceso al contenido.",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "El contenido se clasifica más abajo y se muestra a menos personas.",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": "El contenido ya no se muestra a menores.",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": "Se han restringido las interacciones con el"
    " contenido.",
    "DECISION_VISIBILITY_CONTENT_LABELLED": "Se ha añadido una etiqueta al contenido.",
    "DECISION_VISIBILITY_OTHER": "Se ha restringido la visibilidad del contenido.",
    "DECISION_ACCOUNT_SUSPENDED": "La cuenta se ha suspendido.",
    "DECISION_ACCOUNT_TERMINATED": "La cuenta o el canal se ha cerrado.",
    "scope_global": "Esto se aplica en todos los países.",
    "scope_countries": "Esto se aplica solo en estos países: {countries}.",
    "DECISION_GROUND_ILLEGAL_CONTENT": "Motivo: consideramos que el contenido es ilícito conforme a"
    " {reference}.",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": "Motivo: el contenido es incompatible con nuestras condiciones"
    " generales ({reference}).",
    "explanation": "Explicación: {explanation}",
    "category": "Categoría: {category}.",
    "SOURCE_VOLUNTARY": "Encontramos el contenido por iniciativa propia.",
    "SOURCE_ARTICLE_16": "Actuamos a raíz de una notificación sobre el contenido (artículo 16 de la DSA).",
    "SOURCE_TRUSTED_FLAGGER": "Actuamos a raíz de una notificación de un alertador fiable (artículo 22 de"
    " la DSA).",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "Actuamos en cumplimiento de una orden de una autoridad pública.",
    "source_identity": "Notificación u orden de: {identity}.",
    "detection_Yes": "El contenido se detectó por medios automatizados.",
    "detection_No": "El contenido no se detectó por medios automatizados.",
    "AUTOMATED_DECISION_FULLY": "La decisión se tomó por medios automatizados.",
    "AUTOMATED_DECISION_PARTIALLY": "La decisión se tomó en parte por medios automatizados.",
    "AUTOMATED_DECISION_NOT_AUTOMATED": "La decisión la tomó una persona.",
    "facts": "Detalles (en inglés): {facts}",
    "redress_title": "Cómo impugnar esta decisión",
    "redress_internal": "Presente gratuitamente una reclamación ante nosotros a través de la plataforma, al"
    " menos hasta el {until} (sistema interno de gestión de reclamaciones, artículo 20 de la DSA).",
    "redress_out_of_court": "Someta el litigio a un órgano certificado de resolución extrajudicial de"
    " litigios (artículo 21 de la DSA).",
    "redress_court": "Acuda a un tribunal conforme al derecho de su país.",
    "state_revoked": "El {date} se revocó esta decisión: la restricción se ha levantado.",
    "state_superseded": "El {date} esta decisión se sustituyó por una nueva decisión (referencia"
    " {reference}); se aplica su exposición de motivos.",
}

_ID = {
    "title": "Pernyataan alasan",
    "intro": "Pada {date} kami mengambil keputusan berikut tentang konten Anda {content_id} (referensi"
    " {reference}):",
    "DECISION_VISIBILITY_CONTENT_REMOVED": "Konten telah dihapus.",
    "DECISION_VISIBILITY_CONTENT_DISABLED": "Akses ke konten telah diblokir.",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "Peringkat konten diturunkan sehingga ditampilkan kepada lebih"
    " sedikit orang.",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": "Konten tidak lagi ditampilkan kepada anak di bawah umur.",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": "Interaksi dengan konten telah dibatasi.",
    "DECISION_VISIBILITY_CONTENT_LABELLED": "Label telah ditambahkan pada konten.",
    "DECISION_VISIBILITY_OTHER": "Visibilitas konten telah dibatasi.",
    "DECISION_ACCOUNT_SUSPENDED": "Akun telah ditangguhkan.",
    "DECISION_ACCOUNT_TERMINATED": "Akun atau kanal telah ditutup.",
    "scope_global": "Ini berlaku di semua negara.",
    "scope_countries": "Ini hanya berlaku di negara-negara berikut: {countries}.",
    "DECISION_GROUND_ILLEGAL_CONTENT": "Alasan: kami menilai konten tersebut ilegal berdasarkan {reference}.",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": "Alasan: konten tersebut tidak sesuai dengan syarat dan ketentuan"
    " kami ({reference}).",
    "explanation": "Penjelasan: {explanation}",
    "category": "Kategori: {category}.",
    "SOURCE_VOLUNTARY": "Kami menemukan konten ini atas inisiatif kami sendiri.",
    "SOURCE_ARTICLE_16": "Kami bertindak berdasarkan laporan tentang konten ini (Pasal 16 DSA).",
    "SOURCE_TRUSTED_FLAGGER": "Kami bertindak berdasarkan laporan dari pelapor tepercaya (Pasal 22 DSA).",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "Kami bertindak berdasarkan perintah otoritas publik.",
    "source_identity": "Laporan atau perintah dari: {identity}.",
    "detection_Yes": "Konten terdeteksi dengan sarana otomatis.",
    "detection_No": "Konten tidak terdeteksi dengan sarana otomatis.",
    "AUTOMATED_DECISION_FULLY": "Keputusan diambil dengan sarana otomatis.",
    "AUTOMATED_DECISION_PARTIALLY": "Keputusan diambil sebagian dengan sarana otomatis.",
    "AUTOMATED_DECISION_NOT_AUTOMATED": "Keputusan diambil oleh manusia.",
    "facts": "Rincian (dalam bahasa Inggris): {facts}",
    "redress_title": "Cara menggugat keputusan ini",
    "redress_internal": "Ajukan keluhan kepada kami tanpa biaya melalui platform, setidaknya hingga {until}"
    " (sistem penanganan keluhan internal, Pasal 20 DSA).",
    "redress_out_of_court": "Ajukan sengketa ke lembaga penyelesaian sengketa di luar pengadilan yang"
    " tersertifikasi (Pasal 21 DSA).",
    "redress_court": "Ajukan perkara ke pengadilan sesuai hukum negara Anda.",
    "state_revoked": "Pada {date} keputusan ini dibatalkan: pembatasan telah dicabut.",
    "state_superseded": "Pada {date} keputusan ini digantikan oleh keputusan baru (referensi {reference});"
    " pernyataan alasan keputusan itu yang berlaku.",
}

_RU = {
    "title": "Обоснование решения",
    "intro": "{date} мы приняли следующее решение в отношении вашего контента {content_id} (номер"
    " {reference}):",
    "DECISION_VISIBILITY_CONTENT_REMOVED": "Контент удалён.",
    "DECISION_VISIBILITY_CONTENT_DISABLED": "Доступ к контенту заблокирован.",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "Контент понижен в выдаче и показывается меньшему числу людей.",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": "Контент больше не показывается несовершеннолетним.",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": "Взаимодействие с контентом ограничено.",
    "DECISION_VISIBILITY_CONTENT_LABELLED": "К контенту добавлена пометка.",
    "DECISION_VISIBILITY_OTHER": "Видимость контента ограничена.",
    "DECISION_ACCOUNT_SUSPENDED": "Аккаунт временно заблокирован.",
    "DECISION_ACCOUNT_TERMINATED": "Аккаунт или канал закрыт.",
    "scope_global": "Это действует во всех странах.",
    "scope_countries": "Это действует только в следующих странах: {countries}.",
    "DECISION_GROUND_ILLEGAL_CONTENT": "Основание: мы считаем контент незаконным согласно {reference}.",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": "Основание: контент нарушает наши условия использования"
    " ({reference}).",
    "explanation": "Пояснение: {explanation}",
    "category": "Категория: {category}.",
    "SOURCE_VOLUNTARY": "Мы обнаружили контент по собственной инициативе.",
    "SOURCE_ARTICLE_16": "Мы действовали на основании уведомления о контенте (статья 16 DSA).",
    "SOURCE_TRUSTED_FLAGGER": "Мы действовали на основании уведомления доверенного заявителя (статья 22 DSA).",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "Мы действовали на основании предписания государственного органа.",
    "source_identity": "Уведомление или предписание от: {identity}.",
    "detection_Yes": "Контент обнаружен автоматизированными средствами.",
    "detection_No": "Контент обнаружен без автоматизированных средств.",
    "AUTOMATED_DECISION_FULLY": "Решение принято автоматизированными средствами.",
    "AUTOMATED_DECISION_PARTIALLY": "Решение принято частично автоматизированными средствами.",
    "AUTOMATED_DECISION_NOT_AUTOMATED": "Решение принял человек.",
    "facts": "Подробности (на английском языке): {facts}",
    "redress_title": "Как обжаловать это решение",
    "redress_internal": "Бесплатно подайте нам жалобу через платформу, по меньшей мере до {until}"
    " (внутренняя система рассмотрения жалоб, статья 20 DSA).",
    "redress_out_of_court": "Передайте спор в сертифицированный орган внесудебного урегулирования споров"
    " (статья 21 DSA).",
    "redress_court": "Обратитесь в суд в соответствии с законодательством вашей страны.",
    "state_revoked": "{date} это решение отменено: ограничение снято.",
    "state_superseded": "{date} это решение заменено новым решением (номер {reference}); действует его"
    " обоснование.",
}

# the names of the DSA categories, in the order StatementCategory lists them
_CATEGORIES = {
    "en": (
        "Animal welfare",
        "Consumer information infringements",
        "Cyber violence",
        "Cyber violence against women",
        "Data protection and privacy violations",
        "Illegal or harmful speech",
        "Intellectual property infringements",
        "Negative effects on civic discourse or elections",
        "Not specified in the notice",
        "Other violation of the terms and conditions",
        "Protection of minors",
        "Risk for public security",
        "Scams and fraud",
        "Self-harm",
        "Unsafe and prohibited products",
        "Violence",
    ),
    "fr": (
        "Bien-être animal",
        "Atteintes à l'information des consommateurs",
        "Cyberviolence",
        "Cyberviolence à l'égard des femmes",
        "Violations de la protection des données et de la vie privée",
        "Discours illicites ou préjudiciables",
        "Atteintes à la propriété intellectuelle",
        "Effets négatifs sur le discours civique ou les élections",
        "Non précisé dans le signalement",
        "Autre violation des conditions générales",
        "Protection des mineurs",
        "Risque pour la sécurité publique",
        "Escroqueries et fraudes",
        "Automutilation",
        "Produits dangereux et interdits",
        "Violence",
    ),
    "de": (
        "Tierschutz",
        "Verstöße gegen Verbraucherinformationspflichten",
        "Cybergewalt",
        "Cybergewalt gegen Frauen",
        "Verstöße gegen Datenschutz und Privatsphäre",
        "Rechtswidrige oder schädliche Äußerungen",
        "Verletzungen geistigen Eigentums",
        "Negative Auswirkungen auf den gesellschaftlichen Diskurs oder Wahlen",
        "In der Meldung nicht angegeben",
        "Sonstiger Verstoß gegen die Nutzungsbedingungen",
        "Jugendschutz",
        "Gefahr für die öffentliche Sicherheit",
        "Betrug und Täuschung",
        "Selbstverletzung",
        "Unsichere und verbotene Produkte",
        "Gewalt",
    ),
    "es": (
        "Bienestar animal",
        "Infracciones de la información al consumidor",
        "Ciberviolencia",
        "Ciberviolencia contra las mujeres",
        "Infracciones de la protección de datos y la privacidad",
        "Discurso ilícito o nocivo",
        "Infracciones de la propiedad intelectual",
        "Efectos negativos en el discurso cívico o las elecciones",
        "No especificado en la notificación",
        "Otra infracción de las condiciones generales",
        "Protección de menores",
        "Riesgo para la seguridad pública",
        "Estafas y fraudes",
        "Autolesiones",
        "Productos peligrosos y prohibidos",
        "Violencia",
    ),
    "id": (
        "Kesejahteraan hewan",
        "Pelanggaran informasi konsumen",
        "Kekerasan siber",
        "Kekerasan siber terhadap perempuan",
        "Pelanggaran perlindungan data dan privasi",
        "Ujaran ilegal atau berbahaya",
        "Pelanggaran kekayaan intelektual",
        "Dampak negatif terhadap wacana publik atau pemilu",
        "Tidak disebutkan dalam laporan",
        "Pelanggaran lain terhadap syarat dan ketentuan",
        "Perlindungan anak",
        "Risiko bagi keamanan publik",
        "Penipuan",
        "Menyakiti diri sendiri",
        "Produk tidak aman dan terlarang",
        "Kekerasan",
    ),
    "ru": (
        "Защита животных",
        "Нарушения в сфере информирования потребителей",
        "Кибернасилие",
        "Кибернасилие в отношении женщин",
        "Нарушения защиты данных и неприкосновенности частной жизни",
        "Незаконные или вредные высказывания",
        "Нарушения прав интеллектуальной собственности",
        "Негативное влияние на общественную дискуссию или выборы",
        "Не указано в уведомлении",
        "Иное нарушение условий использования",
        "Защита несовершеннолетних",
        "Угроза общественной безопасности",
        "Мошенничество",
        "Самоповреждение",
        "Небезопасные и запрещённые товары",
        "Насилие",
    ),
}

TEXTS = MappingProxyType(
    {
        lang: MappingProxyType(
            {**texts, **dict(zip((c.value for c in StatementCategory), _CATEGORIES[lang], strict=True))}
        )
        for lang, texts in (("en", _EN), ("fr", _FR), ("de", _DE), ("es", _ES), ("id", _ID), ("ru", _RU))
    }
)
"""language -> key -> text; the category names are keyed by their ``STATEMENT_CATEGORY_*`` value."""

LANGUAGES = tuple(TEXTS)
