"""Word lists, sentence frames and prompt templates of :func:`sybilgraph.synth.prompt_corpus`.

Pure data, one :class:`Bank` per language. All text is made up; names are
common given names and refer to no one.

Slots in ``frames`` (sentence frames): ``{N}`` noun, ``{V}`` verb, ``{A}``
adjective, ``{n}`` number, ``{name}`` a given name. Slots in ``templates``
(operator instructions): ``{task}`` one or two sentences, ``{para}`` two to
five sentences, ``{topic}`` one or two nouns, ``{quote}`` a quoted sentence,
``{n}``, ``{name}``, ``{lang}`` a programming language, ``{hlang}`` a human
language, ``{code}`` a code block; a suffix names another language's content
(``{para_zh}``: Chinese sentences in a template of the mixed bank).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bank:
    """What one language contributes to the prompt corpus."""

    language: str
    #: separator of the words of generated content ("" for Chinese and Japanese)
    sep: str
    nouns: tuple[str, ...]
    verbs: tuple[str, ...]
    adjectives: tuple[str, ...]
    names: tuple[str, ...]
    hlangs: tuple[str, ...]
    #: sentence frames of slot content and free-form prompts
    frames: tuple[str, ...]
    #: operator templates (instructions with slots)
    templates: tuple[str, ...]
    #: stock phrases that open and close free-form prompts (shared by unrelated prompts)
    openers: tuple[str, ...]
    closers: tuple[str, ...]
    #: popular fixed system prompts, sent verbatim by many unrelated users
    system: tuple[str, ...]
    #: light paraphrase of the fixed text: (old, new) substitutions
    edits: tuple[tuple[str, str], ...]
    #: punctuation variants: (old, new)
    punct: tuple[tuple[str, str], ...]
    #: pieces a paraphrase may drop (CJK: particles; other scripts drop a whole word)
    droppable: tuple[str, ...]
    #: the word joining two nouns of a topic ("und", "和", ...)
    conj: str
    #: quotation marks: (open, close)
    quotes: tuple[tuple[str, str], ...]


def _t(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ENGLISH = Bank(
    language="en", sep=" ",
    nouns=_t("database server invoice interface table algorithm application result customer order document "
             "contract department schedule exam tool error backup device sensor size procedure street vehicle "
             "teacher recipe garden flat weather airport bakery museum translation change solution plot fee "
             "cheese bread meter"),
    verbs=_t("check save process sort translate summarise optimise explain compare calculate delete update "
             "encrypt monitor test document plan evaluate repair improve"),
    adjectives=_t("fast slow large small expensive cheap secure insecure complicated simple outdated modern "
                  "reliable faulty dangerous useful public secret difficult important"),
    names=_t("James Mary Oliver Amelia Harry Isla George Ava Noah Emily Jack Grace"),
    hlangs=_t("French German Spanish Chinese Japanese Arabic Italian Turkish Polish Dutch"),
    frames=(
        "How do I {V} the {N} with the {N}?",
        "Why is the {N} so {A} during the {N}?",
        "The {N} must be checked before the {N}.",
        "I want to {V} the {N} and the {N}.",
        "Is the {N} really {A} for the {N}?",
        "After {n} days the {N} was still {A}.",
        "{name} says the {N} is too {A}.",
        "Please {V} the {N} without the {N}.",
        "The {N} is {A}, but the {N} is {A}.",
        "Since yesterday the {N} has been {A}.",
    ),
    templates=(
        "Write a complete {lang} implementation for the following task: {task} Add unit tests and explain the "
        "main design decisions.",
        "Translate the following text into {hlang} and keep the tone and the formatting exactly as they are: {para}",
        "Summarise the following article in {n} bullet points for a busy executive: {para}",
        "You are an experienced {lang} developer. Rewrite the following code so that it is easier to read and "
        "faster: {code} Explain every single change.",
        "Solve the task step by step and show all of your working before you give the final answer: {task}",
        "Create {n} varied question and answer pairs about {topic} for training a customer service model. "
        "Return them as JSON lines.",
        "Rate the following answer on a scale from 1 to 10 for correctness, helpfulness and harmlessness and "
        "justify every score: {task}",
        "Write a polite e-mail to {name} asking for an update on {topic}. Keep it shorter than five sentences.",
        "Classify the sentiment of this review as positive, negative or neutral and justify the label in one "
        "sentence: {quote}",
        "Explain to a ten year old child how {topic} works, using a short story with a character called {name}.",
        "Answer the question using only the context below. If the answer is not in the context, say that you do "
        "not know. Context: {para} Question: {task}",
        "Find every grammar and spelling mistake in this text and list each correction separately: {para}",
    ),
    openers=("Can you help me?", "I have a question:", "What is the best way?", "Please explain:",
             "Hi, I need help.", "Is it possible?", "Step by step please:", "I do not understand why:"),
    closers=("Thanks in advance!", "Please keep it short.", "Thank you so much!", "Explain it step by step.",
             "Please answer in English."),
    system=("You are a helpful assistant.",
            "You are a helpful assistant. Always answer in English.",
            "You are a friendly customer service agent for an online shop.",
            "Correct the grammar and spelling of the following text.",
            "Summarise the following text.",
            "You are a patient maths teacher for sixth-form students.",
            "Translate the user's message into French.",
            "You are an experienced software developer who reviews code."),
    edits=(("Write", "Compose"), ("Create", "Generate"), ("following", "next"), ("Explain", "Describe"),
           ("complete", "full"), ("task", "problem"), ("polite", "friendly"), ("step by step", "one step at a time"),
           ("Rewrite", "Improve"), ("Find", "Spot"), ("short", "brief"), ("every", "each"),
           ("Summarise", "Summarize")),
    punct=((": ", " - "), (", ", " "), (".", "!"), (": ", ":\n")),
    droppable=(),
    conj="and",
    quotes=(('"', '"'), ("“", "”")),
)

GERMAN = Bank(
    language="de", sep=" ",
    nouns=_t("Datenbank Server Rechnung Schnittstelle Tabelle Algorithmus Anwendung Ergebnis Kunde "
             "Bestellung Dokument Vertrag Abteilung Zeitplan Prüfung Werkzeug Fehler Sicherung Gerät "
             "Sensor Größe Verfahren Straße Fahrzeug Lehrer Rezept Garten Wohnung Wetter Flughafen "
             "Bäckerei Museum Übersetzung Änderung Lösung Grundstück Gebühr Käse Brötchen Stromzähler"),
    verbs=_t("prüfen speichern verarbeiten sortieren übersetzen zusammenfassen optimieren erklären "
             "vergleichen berechnen löschen aktualisieren verschlüsseln überwachen testen dokumentieren "
             "planen bewerten reparieren verbessern"),
    adjectives=_t("schnell langsam groß klein teuer günstig sicher unsicher kompliziert einfach veraltet "
                  "modern zuverlässig fehlerhaft gefährlich nützlich öffentlich geheim schwierig wichtig"),
    names=_t("Jürgen Anna Lukas Sophie Jonas Lena Felix Marie Paul Jörg Käthe Björn"),
    hlangs=_t("Englische Französische Spanische Chinesische Japanische Arabische Italienische Türkische "
              "Polnische Niederländische"),
    frames=(
        "Wie kann ich {N} mit {N} {V}?",
        "Warum ist {N} bei {N} so {A}?",
        "{N} muss vor {N} geprüft werden.",
        "Ich möchte {N} und {N} {V}.",
        "Ist {N} für {N} wirklich {A}?",
        "Nach {n} Tagen war {N} immer noch {A}.",
        "{name} sagt, dass {N} zu {A} ist.",
        "Bitte {V} Sie {N} ohne {N}.",
        "{N} ist {A}, aber {N} ist {A}.",
        "Seit gestern ist {N} {A} geworden.",
    ),
    templates=(
        "Schreibe eine vollständige {lang}-Implementierung für folgende Aufgabe: {task} Füge Unit-Tests hinzu "
        "und erkläre die wichtigsten Designentscheidungen.",
        "Übersetze den folgenden Text ins {hlang} und behalte dabei den Ton und die Formatierung genau bei: {para}",
        "Fasse den folgenden Artikel in {n} Stichpunkten für eine vielbeschäftigte Führungskraft zusammen: {para}",
        "Du bist ein erfahrener {lang}-Entwickler. Überarbeite den folgenden Code, damit er lesbarer und "
        "schneller wird: {code} Erkläre jede einzelne Änderung.",
        "Löse die Aufgabe Schritt für Schritt und zeige deinen gesamten Rechenweg, bevor du die endgültige "
        "Antwort gibst: {task}",
        "Erstelle {n} abwechslungsreiche Frage-Antwort-Paare zum Thema {topic} für das Training eines "
        "Kundenservice-Modells. Gib sie als JSON-Zeilen zurück.",
        "Bewerte die folgende Antwort auf einer Skala von 1 bis 10 hinsichtlich Richtigkeit, Hilfsbereitschaft "
        "und Harmlosigkeit und begründe jede Note: {task}",
        "Schreibe eine höfliche E-Mail an {name}, in der du um ein Update zu {topic} bittest. Halte sie kürzer "
        "als fünf Sätze.",
        "Klassifiziere die Stimmung dieser Bewertung als positiv, negativ oder neutral und begründe das Urteil "
        "in einem Satz: {quote}",
        "Erkläre einem zehnjährigen Kind, wie {topic} funktioniert, und benutze dabei eine kurze Geschichte "
        "mit einer Figur namens {name}.",
        "Beantworte die Frage nur anhand des folgenden Kontexts. Wenn die Antwort nicht im Kontext steht, "
        "sage, dass du es nicht weißt. Kontext: {para} Frage: {task}",
        "Finde alle Grammatik- und Rechtschreibfehler in diesem Text und liste jede Korrektur einzeln auf: {para}",
    ),
    openers=("Kannst du mir helfen?", "Ich habe eine Frage:", "Was ist der beste Weg?", "Erkläre mir bitte:",
             "Hallo, ich brauche Hilfe.", "Gibt es eine Möglichkeit?", "Schritt für Schritt bitte:",
             "Ich verstehe nicht, warum:"),
    closers=("Danke im Voraus!", "Bitte antworte kurz.", "Vielen Dank!", "Erkläre es Schritt für Schritt.",
             "Antworte bitte auf Deutsch."),
    system=("Du bist ein hilfreicher Assistent.",
            "Du bist ein hilfreicher Assistent. Antworte immer auf Deutsch.",
            "Du bist ein freundlicher Mitarbeiter im Kundenservice eines Online-Shops.",
            "Korrigiere die Grammatik und Rechtschreibung des folgenden Textes.",
            "Fasse den folgenden Text zusammen.",
            "Du bist ein geduldiger Mathematiklehrer für Schüler der Oberstufe.",
            "Übersetze die Nachricht des Nutzers ins Englische.",
            "Du bist ein erfahrener Softwareentwickler und prüfst Code."),
    edits=(("Schreibe", "Verfasse"), ("Erstelle", "Generiere"), ("folgenden", "nachstehenden"),
           ("Erkläre", "Beschreibe"), ("vollständige", "komplette"), ("Aufgabe", "Problemstellung"),
           ("höfliche", "freundliche"), ("Schritt für Schritt", "schrittweise"), ("Überarbeite", "Verbessere"),
           ("Finde", "Suche"), ("kurze", "kleine"), ("Übersetze", "Uebersetze"), ("Füge", "Fuege")),
    punct=((": ", " - "), (", ", " "), (".", "!"), (": ", ":\n")),
    droppable=(),
    conj="und",
    quotes=(("„", "“"), ('"', '"'), ("»", "«")),
)

FRENCH = Bank(
    language="fr", sep=" ",
    nouns=_t("serveur facture modèle utilisateur rapport réseau tableau algorithme application résultat "
             "client commande document contrat équipe budget calendrier examen outil erreur sauvegarde "
             "appareil capteur procédé véhicule professeur élève recette jardin appartement aéroport "
             "musée fromage boulanger théâtre hôpital château")
    + ("base de données", "mise à jour", "pomme de terre"),
    verbs=_t("vérifier enregistrer traiter trier traduire résumer optimiser expliquer comparer calculer "
             "supprimer chiffrer surveiller tester documenter planifier évaluer réparer améliorer"),
    adjectives=_t("rapide lent grand petit cher économique sûr fragile compliqué simple obsolète moderne "
                  "fiable défectueux dangereux utile public secret difficile important"),
    names=_t("François Hélène Zoé Léa Jérôme Céline Noël Benoît Chloé Gaël Amélie Théo"),
    hlangs=_t("anglais allemand espagnol chinois japonais arabe italien portugais russe néerlandais"),
    frames=(
        "Comment puis-je {V} le {N} avec le {N} ?",
        "Pourquoi le {N} est-il si {A} pendant le {N}\u202f?",
        "Il faut {V} le {N} avant le {N}.",
        "Je voudrais {V} le {N} et le {N}.",
        "Est-ce que le {N} est vraiment {A} pour le {N}\u00a0?",
        "Après {n} jours, le {N} était toujours {A}.",
        "{name} dit que le {N} est trop {A}.",
        "Il faut {V} le {N} sans toucher au {N}.",
        "Le {N} est {A}, mais le {N} est {A}.",
        "Depuis hier, le {N} est devenu {A}.",
    ),
    templates=(
        "Écris une implémentation complète en {lang} pour la tâche suivante : {task} Ajoute des tests "
        "unitaires et explique les choix de conception.",
        "Traduis le texte suivant en {hlang} en conservant exactement le ton et la mise en forme : {para}",
        "Résume l'article suivant en {n} points pour un dirigeant très occupé : {para}",
        "Tu es un développeur {lang} expérimenté. Réécris le code suivant pour qu'il soit plus lisible et plus "
        "rapide : {code} Explique chaque modification.",
        "Résous ce problème étape par étape et montre tout ton raisonnement avant de donner la réponse "
        "finale : {task}",
        "Génère {n} paires de questions et réponses variées sur {topic} pour entraîner un modèle de service "
        "client. Renvoie-les au format JSON.",
        "Évalue la réponse suivante de 0 à 10 pour l'exactitude, l'utilité et l'innocuité, et justifie chaque "
        "note : {task}",
        "Rédige un courriel poli à {name} pour lui demander où en est {topic}. Reste en dessous de cinq phrases.",
        "Classe le sentiment de cet avis comme positif, négatif ou neutre et justifie l'étiquette en une "
        "phrase : {quote}",
        "Explique à un enfant de dix ans comment fonctionne {topic}, à l'aide d'une courte histoire avec un "
        "personnage nommé {name}.",
        "Réponds à la question uniquement à partir du contexte ci-dessous. Si la réponse n'y figure pas, dis "
        "que tu ne sais pas. Contexte : {para} Question : {task}",
        "Corrige les fautes de grammaire et d'orthographe de ce texte et énumère chaque correction "
        "effectuée : {para}",
    ),
    openers=("Peux-tu m'aider ?", "J'ai une question :", "Quelle est la meilleure façon ?", "Explique-moi :",
             "Bonjour, j'ai besoin d'aide.", "Est-ce possible ?", "Étape par étape, s'il te plaît :",
             "Je ne comprends pas pourquoi :"),
    closers=("Merci d'avance !", "Réponds brièvement.", "Merci beaucoup !", "Explique étape par étape.",
             "Réponds en français, s'il te plaît."),
    system=("Tu es un assistant serviable.",
            "Tu es un assistant serviable. Réponds toujours en français.",
            "Tu es un conseiller sympathique du service client d'une boutique en ligne.",
            "Corrige la grammaire et l'orthographe du texte suivant.",
            "Résume le texte suivant.",
            "Tu es un professeur de mathématiques patient pour des lycéens.",
            "Traduis le message de l'utilisateur en anglais.",
            "Tu es un développeur expérimenté qui relit du code."),
    edits=(("Écris", "Rédige"), ("Génère", "Crée"), ("suivant", "ci-dessous"), ("Explique", "Décris"),
           ("complète", "entière"), ("tâche", "mission"), ("poli", "courtois"), ("étape par étape", "pas à pas"),
           ("Réécris", "Améliore"), ("Corrige", "Rectifie"), ("courte", "petite"), ("Écris", "Ecris"),
           ("Résume", "Resume"), ("réponse", "reponse")),
    punct=((" : ", ": "), (", ", " "), (".", " !"), (" : ", " - ")),
    droppable=(),
    conj="et",
    quotes=(("« ", " »"), ("“", "”"), ('"', '"')),
)

SPANISH = Bank(
    language="es", sep=" ",
    nouns=_t("servidor factura modelo usuario informe red tabla algoritmo aplicación resultado cliente pedido "
             "documento contrato equipo presupuesto calendario examen herramienta error dispositivo sensor "
             "tamaño procedimiento vehículo profesor alumna receta jardín piso clima aeropuerto panadería "
             "museo traducción cambio solución montaña")
    + ("base de datos", "copia de seguridad", "año fiscal"),
    verbs=_t("revisar guardar procesar ordenar traducir resumir optimizar explicar comparar calcular borrar "
             "actualizar cifrar vigilar probar documentar planificar evaluar reparar mejorar"),
    adjectives=_t("rápido lento grande pequeño caro barato seguro frágil complicado sencillo antiguo moderno "
                  "fiable defectuoso peligroso útil público secreto difícil importante"),
    names=_t("José María Íñigo Lucía Martín Sofía Ramón Begoña Andrés Inés Joaquín Núria"),
    hlangs=_t("inglés alemán francés chino japonés árabe italiano portugués ruso neerlandés"),
    frames=(
        "¿Cómo puedo {V} el {N} con el {N}?",
        "¿Por qué el {N} es tan {A} durante el {N}?",
        "Hay que {V} el {N} antes del {N}.",
        "Quiero {V} el {N} y el {N}.",
        "¿De verdad el {N} es {A} para el {N}?",
        "Después de {n} días, el {N} seguía {A}.",
        "{name} dice que el {N} es demasiado {A}.",
        "Es necesario {V} el {N} sin tocar el {N}.",
        "El {N} es {A}, pero el {N} es {A}.",
        "Desde ayer, el {N} está {A}.",
    ),
    templates=(
        "Escribe una implementación completa en {lang} para la siguiente tarea: {task} Incluye pruebas "
        "unitarias y explica las decisiones de diseño.",
        "Traduce el siguiente texto al {hlang} manteniendo exactamente el tono y el formato: {para}",
        "Resume el siguiente artículo en {n} viñetas para un directivo muy ocupado: {para}",
        "Eres un desarrollador de {lang} con experiencia. Reescribe el siguiente código para que sea más "
        "legible y más rápido: {code} Explica cada cambio.",
        "Resuelve este problema paso a paso y muestra todo tu razonamiento antes de dar la respuesta final: {task}",
        "Genera {n} pares variados de preguntas y respuestas sobre {topic} para entrenar un modelo de atención "
        "al cliente. Devuélvelos en formato JSON.",
        "Puntúa la siguiente respuesta del 0 al 10 según su exactitud, utilidad e inocuidad, y justifica cada "
        "puntuación: {task}",
        "Redacta un correo educado a {name} para pedirle novedades sobre {topic}. Que tenga menos de cinco frases.",
        "Clasifica el sentimiento de esta reseña como positivo, negativo o neutro y justifica la etiqueta en "
        "una frase: {quote}",
        "Explícale a un niño de diez años cómo funciona {topic}, con una historia corta protagonizada por un "
        "personaje llamado {name}.",
        "Responde a la pregunta usando solo el contexto de abajo. Si la respuesta no está en el contexto, di que "
        "no lo sabes. Contexto: {para} Pregunta: {task}",
        "Corrige los errores de gramática y ortografía de este texto y enumera cada corrección que hayas "
        "hecho: {para}",
    ),
    openers=("¿Me puedes ayudar?", "Tengo una pregunta:", "¿Cuál es la mejor manera?", "Explícame:",
             "Hola, necesito ayuda.", "¿Es posible?", "Paso a paso, por favor:", "No entiendo por qué:"),
    closers=("¡Gracias de antemano!", "Responde brevemente.", "¡Muchas gracias!", "Explícalo paso a paso.",
             "Responde en español, por favor."),
    system=("Eres un asistente útil.",
            "Eres un asistente útil. Responde siempre en español.",
            "Eres un agente amable de atención al cliente de una tienda en línea.",
            "Corrige la gramática y la ortografía del siguiente texto.",
            "Resume el siguiente texto.",
            "Eres un profesor de matemáticas paciente para alumnos de bachillerato.",
            "Traduce el mensaje del usuario al inglés.",
            "Eres un ingeniero de software experto que revisa código."),
    edits=(("Escribe", "Redacta"), ("Genera", "Crea"), ("siguiente", "próximo"), ("Explica", "Describe"),
           ("completa", "entera"), ("tarea", "misión"), ("educado", "cortés"), ("paso a paso", "poco a poco"),
           ("Reescribe", "Mejora"), ("Corrige", "Arregla"), ("corta", "breve"), ("implementación", "implementacion"),
           ("código", "codigo"), ("Explícale", "Explicale")),
    punct=((": ", " - "), (", ", " "), (".", "!"), ("¿", "")),
    droppable=(),
    conj="y",
    quotes=(("«", "»"), ('"', '"'), ("“", "”")),
)

CHINESE = Bank(
    language="zh", sep="",
    nouns=_t("服务器 数据库 发票 模型 用户 报告 网络 表格 算法 应用程序 结果 客户 订单 文件 合同 团队 预算 日程 "
             "考试 工具 错误 备份 设备 传感器 流程 街道 车辆 老师 学生 菜谱 花园 公寓 天气 机场 面包店 博物馆 "
             "翻译 方案 接口 缓存 日志 函数 代码 项目 市场 价格 会议 邮件"),
    verbs=_t("检查 保存 处理 排序 翻译 总结 优化 解释 比较 计算 删除 更新 加密 监控 测试 记录 规划 评估 修复 改进 "
             "部署 分析"),
    adjectives=_t("快速 缓慢 巨大 小型 昂贵 便宜 安全 脆弱 复杂 简单 过时 现代 可靠 有缺陷 危险 有用 公开 机密 困难 "
                  "重要"),
    names=_t("王伟 李娜 张敏 刘洋 陈静 杨磊 赵丽 黄强 周杰 吴芳 徐明 孙悦"),
    hlangs=_t("英文 德文 法文 日文 阿拉伯文 西班牙文 韩文 俄文 意大利文 葡萄牙文"),
    frames=(
        "{N}应该怎样{V}？",
        "{N}在{N}的时候为什么这么{A}？",
        "{N}之前必须先{V}{N}。",
        "{N}和{N}都要{V}。",
        "{N}对{N}来说真的{A}吗？",
        "过了{n}天，{N}还是很{A}。",
        "{name}说{N}太{A}了。",
        "{N}不用改，只要{V}{N}。",
        "{N}的{N}经常{A}。",
        "{N}被{V}以后，{N}变得{A}。",
    ),
    templates=(
        "请用{lang}写出下面这个任务的完整实现：{task}要求附带单元测试，并解释主要的设计思路。",
        "请把下面这段文字翻译成{hlang}，务必保持原文的语气和格式：{para}",
        "请将以下文章总结为{n}个要点，供一位非常忙碌的高管阅读：{para}",
        "你是一名资深的{lang}开发工程师。请重构下面的代码，使其更易读、运行更快：{code}并逐条说明你做了哪些修改。",
        "请一步一步地推理，写出完整的解题过程，然后再给出最终答案：{task}",
        "请围绕{topic}生成{n}组多样化的问答对，用于训练客服模型，并以JSON格式逐行输出。",
        "请从正确性、有用性和无害性三个方面给下面的回答打分（0到10分），并说明每一项的理由：{task}",
        "请帮我给{name}写一封礼貌的邮件，询问{topic}的最新进展，不要超过五句话。",
        "判断这条评论的情感是正面、负面还是中性，并用一句话说明理由：{quote}",
        "请用一个主人公叫{name}的小故事，向十岁的孩子解释{topic}是如何运作的。",
        "请只根据下面的背景资料回答问题。如果资料中没有答案，就直接说不知道。背景资料：{para}问题：{task}",
        "请找出这段文字中所有的语法错误和错别字，并逐条列出你的修改：{para}",
        "假设你是一位经验丰富的产品经理，请为{topic}写一份详细的需求文档，包括背景、目标用户和核心功能。",
        "请分析下面这段{lang}代码的时间复杂度和空间复杂度，如果可能的话给出更快的算法：{code}",
        "请为一家销售{topic}的网店写一段不超过{n}字的商品描述，要提到价格和保修政策。",
        "请把下面的会议记录整理成待办事项清单，每一项都要写明负责人和截止日期：{para}",
        "请以{name}的口吻写一首关于{topic}的短诗，一共{n}行，押韵要自然。",
        "请检查下面这个说法是否正确，并给出可靠的来源和你的判断依据：{task}",
    ),
    # stock phrases of 2 to 10 characters: the longer ones give as many character
    # shingles as seven English words
    openers=("请帮我", "我想知道", "你能不能告诉我", "请详细解释一下", "有没有什么办法可以", "我有一个问题：",
             "麻烦问一下，", "请问", "能不能帮我看看", "请一步一步地告诉我"),
    closers=("谢谢！", "越详细越好。", "请用中文回答。", "急，在线等。", "谢谢你的帮助！", "请简单回答。"),
    system=("你是一个乐于助人的助手。",
            "你是一个乐于助人的助手。请始终用中文回答。",
            "你是一家网店的客服，态度要友好。",
            "请纠正下面这段文字的语法和错别字。",
            "请总结下面这段文字。",
            "你是一位耐心的高中数学老师。",
            "请把用户的消息翻译成英文。",
            "你是一名资深软件工程师，负责审查代码。"),
    edits=(("请", "麻烦"), ("写出", "给出"), ("下面", "以下"), ("解释", "说明"), ("完整", "全部"), ("帮我", "给我"),
           ("礼貌", "客气"), ("一步一步地", "逐步"), ("重构", "改写"), ("找出", "指出"), ("小故事", "短故事"),
           ("总结", "概括"), ("生成", "创建")),
    punct=(("：", ":"), ("，", ","), ("。", "."), ("、", ","), ("？", "?")),
    droppable=("请", "一下", "的", "地", "务必", "所有", "一位"),
    conj="和",
    quotes=(("“", "”"), ("「", "」"), ("『", "』")),
)

JAPANESE = Bank(
    language="ja", sep="",
    nouns=_t("サーバー データベース 請求書 モデル ユーザー 報告書 ネットワーク 表 アルゴリズム アプリ 結果 顧客 注文 "
             "書類 契約 チーム 予算 予定 試験 道具 エラー バックアップ 端末 センサー 手順 道路 車 先生 学生 レシピ 庭 "
             "部屋 天気 空港 パン屋 博物館 翻訳 計画 関数 ログ キャッシュ 会議"),
    verbs=_t("確認する 保存する 処理する 並べ替える 翻訳する 要約する 最適化する 説明する 比較する 計算する 削除する "
             "更新する 暗号化する 監視する テストする 記録する 計画する 評価する 修理する 改善する"),
    adjectives=_t("速い 遅い 大きい 小さい 高い 安い 安全な 危険な 複雑な 簡単な 古い 新しい 便利な 重要な 難しい "
                  "静かな 不安定な 丈夫な 軽い 珍しい"),
    names=_t("佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 さくら ゆうき"),
    hlangs=_t("英語 ドイツ語 フランス語 中国語 アラビア語 スペイン語 韓国語 ロシア語 イタリア語 ポルトガル語"),
    frames=(
        "{N}で{N}を{V}には？",
        "{N}のとき、なぜ{A}{N}が必要？",
        "{N}の前に{N}を{V}。",
        "{N}と{N}を両方{V}。",
        "{A}{N}は{N}に本当に向いている？",
        "{n}日たっても{N}は{A}{N}のままだ。",
        "{name}さんは{A}{N}が好きだと言っている。",
        "{N}は変えずに、{N}だけを{V}。",
        "{N}の{N}はいつも{A}{N}だ。",
        "{N}を{V}と、{N}が変わる。",
    ),
    templates=(
        "次のタスクを{lang}で完全に実装してください：{task}単体テストも追加し、主な設計判断を説明してください。",
        "以下の文章を{hlang}に翻訳してください。元の文章の口調と書式はそのまま保ってください：{para}",
        "次の記事を、忙しい経営者向けに{n}個の箇条書きで要約してください：{para}",
        "あなたは経験豊富な{lang}エンジニアです。次のコードを読みやすく高速になるようにリファクタリングし、"
        "変更点をすべて説明してください：{code}",
        "この問題を一歩ずつ考え、途中の計算をすべて示してから最終的な答えを出してください：{task}",
        "{topic}について、カスタマーサポートモデルの学習用に多様な質問と回答のペアを{n}組作成し、JSON形式で出力してください。",
        "次の回答を正確さ・有用性・無害性の観点から0〜10点で採点し、それぞれの理由を説明してください：{task}",
        "{name}さんに、{topic}の進捗を尋ねる丁寧なメールを書いてください。五文以内でお願いします。",
        "このレビューの感情をポジティブ・ネガティブ・中立のいずれかに分類し、その理由を一文で説明してください：{quote}",
        "{name}という名前の登場人物が出てくる短い物語を使って、{topic}の仕組みを十歳の子どもに説明してください。",
        "以下の資料だけを使って質問に答えてください。資料に答えがない場合は、分からないと答えてください。"
        "資料：{para}質問：{task}",
        "この文章の文法ミスと誤字をすべて見つけて、修正点を一つずつ挙げてください：{para}",
        "次の{lang}コードをレビューして、バグとセキュリティ上の問題をすべて指摘してください：{code}",
        "{topic}をテーマにした俳句を{n}句作ってください。季語を必ず入れてください。",
    ),
    openers=("すみません、", "質問があります。", "教えてください。", "ちょっと聞きたいんですが、", "どうすればいいですか？",
             "詳しく説明してください。", "お願いします。", "助けてください。"),
    closers=("よろしくお願いします。", "ありがとうございます！", "簡単に答えてください。", "日本語で答えてください。"),
    system=("あなたは親切なアシスタントです。",
            "あなたは親切なアシスタントです。必ず日本語で答えてください。",
            "あなたはオンラインショップの親切なカスタマーサポート担当です。",
            "次の文章の文法と誤字を直してください。",
            "次の文章を要約してください。",
            "あなたは高校生に数学を教える辛抱強い先生です。",
            "ユーザーのメッセージを英語に翻訳してください。",
            "あなたはコードをレビューする経験豊富なソフトウェアエンジニアです。"),
    edits=(("してください", "して下さい"), ("次の", "以下の"), ("説明して", "解説して"), ("すべて", "全て"),
           ("書いて", "作成して"), ("丁寧な", "礼儀正しい"), ("一歩ずつ", "段階的に"), ("見つけて", "探して"),
           ("短い", "簡単な"), ("要約して", "まとめて"), ("作成し", "作り")),
    punct=(("：", ":"), ("、", "，"), ("。", "."), ("・", "、")),
    droppable=("すべて", "必ず", "完全に", "そのまま", "一つずつ"),
    conj="と",
    quotes=(("「", "」"), ("『", "』"), ("“", "”")),
)

ARABIC = Bank(
    language="ar", sep=" ",
    nouns=_t("الخادم الفاتورة النموذج المستخدم التقرير الشبكة الجدول الخوارزمية التطبيق النتيجة العميل الطلب "
             "المستند العقد الفريق الميزانية الامتحان الأداة الخطأ الجهاز المستشعر الإجراء الشارع السيارة المعلم "
             "الطالبة الوصفة الحديقة الشقة الطقس المطار المخبز المتحف الترجمة الخطة الدالة السجل")
    + ("قاعدة البيانات", "النسخة الاحتياطية", "الجدول الزمني"),
    verbs=_t("يفحص يحفظ يعالج يرتب يترجم يلخص يحسن يشرح يقارن يحسب يحذف يحدث يشفر يراقب يختبر يوثق يخطط يقيم "
             "يصلح يطور"),
    adjectives=_t("سريع بطيء كبير صغير غالٍ رخيص آمن ضعيف معقد بسيط قديم حديث موثوق معطوب خطير مفيد عام سري صعب "
                  "مهم"),
    names=_t("محمد فاطمة أحمد مريم علي نور يوسف ليلى خالد سارة عمر هدى"),
    hlangs=_t("الإنجليزية الفرنسية الألمانية الصينية اليابانية الإسبانية التركية الروسية الإيطالية الفارسية"),
    frames=(
        "كيف {V} {N} مع {N}؟",
        "لماذا {N} {A} جدا عند {N}؟",
        "يجب أن {V} {N} قبل {N}.",
        "أريد أن {V} {N} و{N} معا.",
        "هل {N} {A} حقا بالنسبة إلى {N}؟",
        "بعد {n} أيام ما زال {N} {A}.",
        "يقول {name} إن {N} {A} أكثر من اللازم.",
        "من فضلك {V} {N} دون تغيير {N}.",
        "{N} {A}، لكن {N} {A}.",
        "منذ أمس أصبح {N} {A}.",
    ),
    templates=(
        "اكتب تنفيذا كاملا بلغة {lang} للمهمة التالية: {task} أضف اختبارات الوحدة واشرح قرارات التصميم الرئيسية.",
        "ترجم النص التالي إلى {hlang} مع الحفاظ على الأسلوب والتنسيق كما هما تماما: {para}",
        "لخص المقال التالي في {n} نقاط لمدير تنفيذي مشغول جدا: {para}",
        "أنت مطور {lang} خبير. أعد كتابة الشيفرة التالية لتصبح أسهل قراءة وأسرع: {code} واشرح كل تغيير قمت به.",
        "حل هذه المسألة خطوة بخطوة واعرض كل تفكيرك قبل أن تعطي الإجابة النهائية: {task}",
        "أنشئ {n} أزواج متنوعة من الأسئلة والأجوبة حول {topic} لتدريب نموذج خدمة العملاء، وأعدها بصيغة JSON.",
        "قيّم الإجابة التالية من 0 إلى 10 من حيث الدقة والفائدة وعدم الضرر، وبرر كل درجة: {task}",
        "اكتب رسالة بريد إلكتروني مهذبة إلى {name} تسأل فيها عن آخر المستجدات بشأن {topic}. لا تتجاوز خمس جمل.",
        "صنف المشاعر في هذه المراجعة إلى إيجابية أو سلبية أو محايدة، وبرر التصنيف في جملة واحدة: {quote}",
        "اشرح لطفل في العاشرة من عمره كيف يعمل {topic}، باستخدام قصة قصيرة عن شخصية اسمها {name}.",
        "أجب عن السؤال باستخدام السياق أدناه فقط. إذا لم تكن الإجابة في السياق، فقل إنك لا تعرف. "
        "السياق: {para} السؤال: {task}",
        "صحح الأخطاء النحوية والإملائية في هذا النص واذكر كل تصحيح قمت به: {para}",
        "أنت مساعد قانوني. لخص أهم البنود في العقد التالي ووضح المخاطر المحتملة على {name}: {para}",
        "اقترح {n} أفكار مبتكرة لمشاريع ناشئة في مجال {topic}، مع تحديد العميل المستهدف ونموذج الربح لكل فكرة.",
        "اكتب قصيدة قصيرة عن {topic} من {n} أبيات بأسلوب الشعر العربي الحديث واشرح الصور الشعرية فيها.",
        "حوّل ملاحظات الاجتماع التالية إلى قائمة مهام مع تحديد المسؤول والموعد النهائي لكل مهمة: {para}",
    ),
    openers=("من فضلك،", "لو سمحت،", "عندي سؤال:", "أريد أن أعرف", "هل يمكنك أن تشرح لي", "ما هي أفضل طريقة؟",
             "ساعدني في هذا:", "اشرح لي بالتفصيل:"),
    closers=("شكرا جزيلا!", "أرجو الإجابة باختصار.", "بالعربية من فضلك.", "وشكرا مقدما."),
    system=("أنت مساعد مفيد.",
            "أنت مساعد مفيد. أجب دائما باللغة العربية.",
            "أنت موظف خدمة عملاء ودود لمتجر إلكتروني.",
            "صحح القواعد والإملاء في النص التالي.",
            "لخص النص التالي.",
            "أنت مدرس رياضيات صبور لطلاب المرحلة الثانوية.",
            "ترجم رسالة المستخدم إلى الإنجليزية.",
            "أنت مهندس برمجيات خبير تراجع الشيفرة."),
    edits=(("اكتب", "أكتب"), ("التالي", "الآتي"), ("التالية", "الآتية"), ("اشرح", "وضح"), ("كاملا", "تاما"),
           ("أنشئ", "أنتج"), ("مهذبة", "لطيفة"), ("خطوة بخطوة", "بالتدريج"), ("إلى", "الى"), ("أنت", "انت"),
           ("قصيرة", "صغيرة"), ("لخص", "اختصر"), ("صحح", "أصلح")),
    punct=(("،", ","), ("؟", "?"), (": ", " - "), (".", "!")),
    droppable=(),
    conj="و",
    quotes=(("«", "»"), ('"', '"'), ("“", "”")),
)

#: Templates of the mixed bank: instructions in one script around content in
#: another (``{para_zh}`` is Chinese content), emoji, Cyrillic, Hangul, Thai,
#: Devanagari, Hebrew and traditional Chinese.
MIXED_TEMPLATES: tuple[str, ...] = (
    "请用{lang}实现下面的功能，并写出完整的unit tests和README：{task_en}",
    "Translate the following Chinese text into natural English and explain every idiom you find: {para_zh}",
    "次の{lang}コードをreviewして、bugとsecurity issueを全部指摘してください：{code}",
    "اكتب دالة بلغة {lang} تقوم بما يلي: {task_en} ثم اشرح الكود سطرا بسطر.",
    "🚀 Write a viral tweet about {topic_en} 🔥 Use at most {n} hashtags and one clear call to action ✨",
    "Résume ce texte anglais en français, en {n} phrases au maximum, sans rien inventer : {para_en}",
    "Erkläre den folgenden englischen Fehlerbericht auf Deutsch und schlage eine konkrete Lösung vor: {task_en}",
    "Traduce al español este texto en árabe y conserva todos los nombres propios: {para_ar}",
    "Summarise this Japanese customer review in English, then rate it from 1 to 5 ⭐ and explain the rating: "
    "{para_ja}",
    "把下面的阿拉伯语句子翻译成中文，并标注每一个专有名词：{para_ar}",
    "Переведи следующий текст на русский язык, сохрани форматирование и объясни сложные слова: {para_en}",
    "다음 문장을 자연스러운 한국어로 번역하고 어려운 표현을 하나씩 설명해 주세요: {para_en}",
    "กรุณาแปลข้อความต่อไปนี้เป็นภาษาไทยและอธิบายคำศัพท์ยากทุกคำอย่างละเอียด: {para_en}",
    "निम्नलिखित पाठ का हिंदी में अनुवाद करें और हर कठिन शब्द का अर्थ विस्तार से बताइए: {para_en}",
    "✅ Checklist for {topic_en}: 1️⃣ define the goal 2️⃣ list the risks 3️⃣ write the plan. Fill in every step in "
    "detail 🙏",
    "請用繁體中文回答下面的問題，並且列出三個可靠的參考資料：{task_zh}",
    "Please answer in both English and 中文, first English then 中文, and keep both answers short: {task_en}",
    "أجب باللغة العربية ثم بالإنجليزية، Answer in Arabic first and then in English: {task_ar}",
    "以下の英語のメールを丁寧な日本語に書き直してください。敬語を正しく使ってください：{para_en}",
    "שלום! תרגם את הטקסט הבא לעברית, שמור על הסגנון המקורי והסבר כל ביטוי קשה: {para_en}",
)
MIXED_EDITS: tuple[tuple[str, str], ...] = (
    ("请", "麻烦"), ("Translate", "Please translate"), ("Write", "Create"), ("explain", "describe"),
    ("下面", "以下"), ("してください", "して下さい"), ("اشرح", "وضح"), ("Erkläre", "Beschreibe"), ("Résume", "Resume"),
    ("Traduce", "Pasa"), ("всё", "все"), ("🚀 ", ""), (" ✨", ""), ("⭐", "stars"), ("🙏", ""),
)
MIXED_PUNCT: tuple[tuple[str, str], ...] = (("：", ":"), ("，", ","), ("。", "."), ("،", ","), (": ", " - "))
MIXED_DROPPABLE: tuple[str, ...] = ("请", "全部", "完整的", "每一个")

BANKS: dict[str, Bank] = {b.language: b for b in (ENGLISH, GERMAN, FRENCH, SPANISH, CHINESE, JAPANESE, ARABIC)}
