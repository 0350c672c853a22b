"""The demo city's data: organisation, staff kinds, catalogue and names of a diverse town."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from app.courses.models import CourseFormat

# --- the organisation -------------------------------------------------------------------------

#: Staff e-mail addresses and online meeting links live under this (reserved, example) domain.
DOMAIN = "neu-isenburg.example"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    parent: str | None
    headcount: int
    #: Share of staff holding a valid completion of ``course``: what makes coverage differ.
    coverage: float
    course: str
    staff: str  # key of STAFF
    leader: str  # position of the person heading the unit


# fmt: off
UNITS = tuple(Unit(*row) for row in (
    ("D1", "Dezernat I – Bürgermeister", None, 4, 0.75, "IKG-EL", "admin", "Büroleitung"),
    ("D1-HA", "Hauptamt", "D1", 34, 0.6, "IKG-EL", "admin", "Amtsleitung"),
    ("D1-PA", "Personal", "D1", 16, 0.75, "IKG-EL", "hr", "Amtsleitung"),
    ("D1-INT", "Stabsstelle Integration", "D1", 5, 1.0, "IKK-BS", "integration",
     "Leitung der Stabsstelle"),
    ("D1-PR", "Presse und Öffentlichkeitsarbeit", "D1", 6, 0.5, "IKG-EL", "press",
     "Pressesprecher/in"),
    ("D1-FI", "Finanzen", "D1", 22, 0.35, "IKG-EL", "finance", "Amtsleitung"),
    ("D1-FI-SK", "Stadtkasse", "D1-FI", 10, 0.3, "IKG-EL", "finance", "Kassenleitung"),
    ("D2", "Dezernat II – Bürgerdienste und Sicherheit", None, 3, 0.67, "IKG-EL", "admin",
     "Büroleitung"),
    ("D2-BA", "Bürgeramt", "D2", 56, 0.85, "IKK-BS", "citizen", "Amtsleitung"),
    ("D2-SA", "Standesamt", "D2", 10, 0.8, "IKK-BS", "registry", "Leitung Standesamt"),
    ("D2-OA", "Ordnungsamt", "D2", 32, 0.55, "IKK-BS", "order", "Amtsleitung"),
    ("D2-OA-VU", "Verkehrsüberwachung", "D2-OA", 16, 0.45, "IKK-BS", "traffic",
     "Sachgebietsleitung"),
    ("D2-FW", "Feuerwehr", "D2", 50, 0.2, "IKG-EL", "fire", "Leitung der Feuerwehr"),
    ("D3", "Dezernat III – Soziales, Bildung und Kultur", None, 3, 0.67, "IKG-EL", "admin",
     "Büroleitung"),
    ("D3-SO", "Soziales", "D3", 30, 0.7, "IKK-BS", "social", "Amtsleitung"),
    ("D3-KB", "Kinderbetreuung", "D3", 9, 0.7, "ELT-MIG", "admin", "Fachbereichsleitung"),
    ("D3-KB-K1", "Kita Buchenbusch", "D3-KB", 38, 0.6, "ELT-MIG", "kita", "Kita-Leitung"),
    ("D3-KB-K2", "Kita Zeppelinheim", "D3-KB", 24, 0.4, "ELT-MIG", "kita", "Kita-Leitung"),
    ("D3-KB-K3", "Kita Gravenbruch", "D3-KB", 34, 0.55, "ELT-MIG", "kita", "Kita-Leitung"),
    ("D3-KB-K4", "Kita Westend", "D3-KB", 30, 0.45, "ELT-MIG", "kita", "Kita-Leitung"),
    ("D3-KB-K5", "Kita Birkengewann", "D3-KB", 28, 0.5, "ELT-MIG", "kita", "Kita-Leitung"),
    ("D3-KB-K6", "Kita Alter Ort", "D3-KB", 26, 0.42, "ELT-MIG", "kita", "Kita-Leitung"),
    ("D3-FZ", "Familienzentrum", "D3", 11, 0.8, "ELT-MIG", "social", "Leitung Familienzentrum"),
    ("D3-SE", "Senioren", "D3", 15, 0.65, "KSB-SEN", "senior", "Leitung Seniorenarbeit"),
    ("D3-BIB", "Stadtbibliothek", "D3", 18, 0.5, "IKG-EL", "library", "Bibliotheksleitung"),
    ("D3-KU", "Kultur", "D3", 20, 0.35, "IKG-EL", "culture", "Amtsleitung"),
    ("D3-SP", "Sport", "D3", 12, 0.25, "IKG-EL", "sport", "Amtsleitung"),
    ("D4", "Dezernat IV – Bauen, Umwelt und Stadtbetrieb", None, 3, 0.67, "IKG-EL", "admin",
     "Büroleitung"),
    ("D4-PB", "Planen und Bauen", "D4", 30, 0.3, "IKG-EL", "building", "Amtsleitung"),
    ("D4-UK", "Umwelt und Klima", "D4", 9, 0.4, "IKG-EL", "environment", "Amtsleitung"),
    ("D4-GM", "Gebäudemanagement", "D4", 26, 0.25, "IKG-EL", "facility", "Amtsleitung"),
    ("D4-DLB", "Dienstleistungsbetrieb (Bauhof)", "D4", 70, 0.12, "IKG-EL", "depot",
     "Betriebsleitung"),
))

#: Staff kind -> (share of women, positions with weights).
STAFF: dict[str, tuple[float, tuple[tuple[str, int], ...]]] = {
    "admin": (0.65, (("Sachbearbeiter/in", 5), ("Verwaltungsfachangestellte/r", 4),
                     ("Teamassistenz", 2), ("Referent/in", 1), ("Auszubildende/r", 1))),
    "hr": (0.75, (("Sachbearbeiter/in Personal", 4), ("Personalreferent/in", 2),
                  ("Sachbearbeiter/in Entgeltabrechnung", 2))),
    "integration": (0.6, (("Integrationsbeauftragte/r", 1), ("Referent/in Integration", 2),
                          ("Integrationslotse/-lotsin", 1), ("Projektkoordinator/in", 1))),
    "press": (0.6, (("Referent/in Öffentlichkeitsarbeit", 2), ("Online-Redakteur/in", 1))),
    "finance": (0.6, (("Sachbearbeiter/in Haushalt", 3), ("Buchhalter/in", 3),
                      ("Sachbearbeiter/in Steuern und Abgaben", 2),
                      ("Vollziehungsbeamter/-beamtin", 1))),
    "citizen": (0.7, (("Sachbearbeiter/in Bürgerservice", 5), ("Verwaltungsfachangestellte/r", 4),
                      ("Sachbearbeiter/in Pass- und Meldewesen", 3), ("Auszubildende/r", 1))),
    "registry": (0.7, (("Standesbeamter/-beamtin", 3), ("Sachbearbeiter/in", 2))),
    "order": (0.45, (("Sachbearbeiter/in Ordnungsrecht", 3), ("Stadtpolizist/in", 3),
                     ("Sachbearbeiter/in Gewerbe", 2))),
    "traffic": (0.5, (("Verkehrsüberwacher/in", 4), ("Sachbearbeiter/in Bußgeldstelle", 2))),
    "fire": (0.08, (("Feuerwehrbeamter/-beamtin", 4), ("Brandmeister/in", 3),
                    ("Oberbrandmeister/in", 2), ("Hauptbrandmeister/in", 1),
                    ("Gerätewart/in", 1), ("Sachbearbeiter/in Brandschutz", 1))),
    "social": (0.75, (("Sozialarbeiter/in", 4), ("Sozialpädagoge/-pädagogin", 2),
                      ("Sachbearbeiter/in Sozialleistungen", 3),
                      ("Sachbearbeiter/in Wohngeld", 1))),
    "kita": (0.88, (("Erzieher/in", 12), ("Sozialassistent/in", 3), ("Kinderpfleger/in", 2),
                    ("Heilpädagoge/-pädagogin", 1), ("Erzieher/in im Anerkennungsjahr", 1),
                    ("Hauswirtschaftskraft", 1))),
    "senior": (0.8, (("Seniorenberater/in", 3), ("Sozialarbeiter/in", 2), ("Sachbearbeiter/in", 1),
                     ("Betreuungskraft Begegnungsstätte", 1))),
    "library": (0.75, (("Bibliothekar/in", 3),
                       ("Fachangestellte/r für Medien- und Informationsdienste", 4))),
    "culture": (0.55, (("Kulturmanager/in", 2), ("Veranstaltungstechniker/in", 2),
                       ("Sachbearbeiter/in Kultur", 2), ("Hausmeister/in Hugenottenhalle", 1))),
    "sport": (0.35, (("Sportstättenwart/in", 3), ("Fachangestellte/r für Bäderbetriebe", 3),
                     ("Sachbearbeiter/in Sport", 1))),
    "building": (0.4, (("Bauingenieur/in", 3), ("Stadtplaner/in", 2), ("Bautechniker/in", 2),
                       ("Sachbearbeiter/in Bauaufsicht", 2))),
    "environment": (0.55, (("Umweltberater/in", 2), ("Klimaschutzmanager/in", 1),
                           ("Sachbearbeiter/in Umwelt", 2))),
    "facility": (0.3, (("Hausmeister/in", 4), ("Techniker/in Gebäudetechnik", 2),
                       ("Reinigungskraft", 3), ("Sachbearbeiter/in Gebäudemanagement", 1))),
    "depot": (0.12, (("Gärtner/in", 4), ("Straßenwärter/in", 3), ("Kraftfahrer/in", 3),
                     ("Handwerker/in", 2), ("Vorarbeiter/in", 1),
                     ("Mitarbeiter/in Straßenreinigung", 3))),
}
# fmt: on


# --- the catalogue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseSpec:
    code: str
    title: str
    format: CourseFormat
    duration: int
    capacity: int
    trainer: str
    validity: int | None
    starts: time
    sessions: tuple[int, int]  # (upcoming, past)
    places: tuple[str, ...]
    description: str
    goals: str


RATHAUS = "Rathaus, Sitzungssaal, Hugenottenallee 53"
ONLINE = "Online (Videokonferenz)"

COURSES = (
    CourseSpec(
        "IKK-BS", "Interkulturelle Kompetenz im Bürgerservice", CourseFormat.IN_PERSON,
        210, 16, "Dr. Aylin Kaya", 36, time(9, 0), (7, 6),
        (RATHAUS, "Rathaus, Raum 2.14, Hugenottenallee 53"),
        "Praxisnahes Training für alle, die täglich mit Bürgerinnen und Bürgern aus vielen "
        "Ländern arbeiten: Wie gelingen Gespräche trotz Sprachbarrieren, wie gehe ich mit "
        "unterschiedlichen Erwartungen an die Verwaltung um, und wo finde ich Unterstützung "
        "durch Dolmetsch- und Lotsendienste?",
        "Kulturelle Prägungen in der eigenen Arbeit erkennen\n"
        "Gespräche in einfacher Sprache führen\n"
        "Missverständnisse und Konflikte am Schalter deeskalieren\n"
        "Dolmetsch- und Beratungsangebote der Stadt kennen und vermitteln",
    ),
    CourseSpec(
        "DIV-FK", "Diversity Management für Führungskräfte", CourseFormat.BLENDED,
        420, 14, "Prof. Dr. Jens Hartmann", 36, time(9, 0), (3, 2),
        ("Rathaus, Magistratssitzungssaal, Hugenottenallee 53",),
        "Zweiteiliges Format aus Online-Impuls und Präsenzworkshop für Amts-, Fachbereichs- und "
        "Kita-Leitungen: vielfältige Teams führen, Personal diskriminierungssensibel auswählen "
        "und die interkulturelle Öffnung der eigenen Organisationseinheit voranbringen.",
        "Vielfalt im Team als Ressource nutzen\n"
        "Auswahlverfahren fair und diskriminierungssensibel gestalten\n"
        "Maßnahmen zur interkulturellen Öffnung planen und messen\n"
        "Konflikte im Team konstruktiv moderieren",
    ),
    CourseSpec(
        "ELT-MIG", "Elternarbeit mit zugewanderten Familien", CourseFormat.IN_PERSON,
        180, 18, "Elif Arslan", 36, time(13, 30), (6, 6),
        ("Familienzentrum, Gruppenraum", "Bürgerhaus Zeppelinheim, Saal"),
        "Für pädagogische Fachkräfte in Kitas und Familienzentren: Erziehungspartnerschaft mit "
        "Eltern, die neu in Deutschland sind oder wenig Deutsch sprechen. Mit Methoden für "
        "Aufnahmegespräche und Elternabende und für den Umgang mit unterschiedlichen "
        "Vorstellungen von Erziehung.",
        "Aufnahme- und Entwicklungsgespräche kultursensibel führen\n"
        "Mehrsprachige Materialien und Sprachmittlung einsetzen\n"
        "Eltern für Angebote im Stadtteil gewinnen\n"
        "Mit Werte- und Rollenkonflikten professionell umgehen",
    ),
    CourseSpec(
        "KSB-SEN", "Kultursensible Beratung in der Seniorenarbeit", CourseFormat.IN_PERSON,
        210, 12, "Irina Wolf", 36, time(9, 0), (3, 1),
        ("Seniorenbegegnungsstätte, Kursraum",),
        "Ältere Migrantinnen und Migranten nutzen Beratungs- und Pflegeangebote seltener als "
        "andere. Das Seminar zeigt, welche Zugangshürden es gibt und wie Beratung zu Pflege, "
        "Wohnen und Freizeit kultursensibel gestaltet werden kann.",
        "Zugangshürden älterer Zugewanderter kennen\n"
        "Biografie, Religion und Familienbilder in der Beratung berücksichtigen\n"
        "Mit Angehörigen und Migrantenorganisationen zusammenarbeiten",
    ),
    CourseSpec(
        "NETZ-VER", "Vernetzung mit Vereinen und Migrantenorganisationen",
        CourseFormat.IN_PERSON, 150, 20, "Stabsstelle Integration", None, time(17, 0), (2, 2),
        ("Hugenottenhalle, Clubraum, Frankfurter Straße 152",),
        "Neu-Isenburg hat ein lebendiges Vereinsleben. Die Veranstaltung stellt "
        "Migrantenorganisationen, Kultur- und Sportvereine und Gemeinden vor und zeigt, wie "
        "Fachbereiche gemeinsam mit ihnen Projekte planen. Mit Gästen aus dem Ausländerbeirat.",
        "Ansprechpersonen in Vereinen und Migrantenorganisationen kennen\n"
        "Gemeinsame Projekte und Förderwege planen\n"
        "Ehrenamtliche als Brücke in die Stadtteile gewinnen",
    ),
    CourseSpec(
        "IKG-EL", "Interkulturelle Grundlagen (E-Learning)", CourseFormat.ELEARNING,
        90, 500, "Lernplattform der Stadt Neu-Isenburg", 36, time(9, 0), (0, 0), (ONLINE,),
        "Selbstlernkurs auf der Lernplattform der Stadt, jederzeit unterbrechbar: Grundbegriffe "
        "zu Migration, Kultur und Diskriminierung, rechtliche Grundlagen (AGG) und Fallbeispiele "
        "aus der Verwaltung. Mit Abschlusstest und Zertifikat.",
        "Grundbegriffe sicher verwenden\n"
        "Diskriminierung erkennen und das AGG anwenden\n"
        "Eigene Handlungsmöglichkeiten im Arbeitsalltag benennen",
    ),
    CourseSpec(
        "IKK-AUF", "Auffrischung Interkulturelle Kompetenz", CourseFormat.ONLINE,
        120, 20, "Dr. Aylin Kaya", 36, time(10, 0), (4, 2), (ONLINE,),
        "Kompaktes Online-Update für alle, deren Schulung zur interkulturellen Kompetenz bald "
        "drei Jahre zurückliegt: neue Entwicklungen, Erfahrungsaustausch und Fallbesprechungen "
        "aus dem Arbeitsalltag.",
        "Wissen auffrischen und aktualisieren\n"
        "Eigene Fälle kollegial besprechen\n"
        "Neue Angebote der Stabsstelle Integration kennen",
    ),
)  # fmt: skip

SESSION_NOTES = (
    "",
    "",
    "Bitte eigene Fallbeispiele aus dem Arbeitsalltag mitbringen.",
    "Barrierefreier Zugang über den Seiteneingang.",
    "Die Teilnahme gilt als Arbeitszeit; bitte mit der Vorgesetzten Person abstimmen.",
)


# --- names of a diverse German town -----------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    weight: float
    female: tuple[str, ...]
    male: tuple[str, ...]
    #: ``_`` stands for a space; ``a|b`` is the male and the female form of a family name.
    last: tuple[str, ...]


def _origin(weight: float, female: str, male: str, last: str) -> Origin:
    def split(names: str) -> tuple[str, ...]:
        return tuple(name.replace("_", " ") for name in names.split())

    return Origin(weight, split(female), split(male), split(last))


ORIGINS = (
    _origin(  # German first: _name() treats ORIGINS[0] as the majority
        56,
        "Anna Sabine Petra Claudia Susanne Stefanie Julia Katharina Andrea Monika Birgit Heike "
        "Nicole Sandra Melanie Christina Laura Lea Lena Sophie Marie Jana Kerstin Silke Ute "
        "Gabriele Ursula Renate Jutta Karin Martina Anja Tanja Daniela Franziska Johanna "
        "Charlotte Hannah Bärbel Jördis Annelie Mareike",
        "Thomas Michael Andreas Stefan Frank Markus Jürgen Klaus Peter Wolfgang Uwe Matthias "
        "Christian Daniel Tobias Jan Lukas Felix Jonas Florian Sebastian Alexander Dirk Holger "
        "Ralf Bernd Hans-Peter Karl-Heinz Jörg Günther Björn Sören Maximilian Tim Niklas "
        "Philipp Moritz Rüdiger Torsten",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
        "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann "
        "Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Schulze Köhler Herrmann "
        "König Walter Mayer Huber Kaiser Fuchs Peters Scholz Möller Weiß Jung Hahn Schubert "
        "Vogel Friedrich Keller Günther Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht "
        "Schuster Ludwig Böhm Winter Kraus Schumacher Vogt Stein Jäger Sommer Groß Seidel "
        "Brandt Haas Schreiber Graf Dietrich Ziegler Kühn Engel Horn Busch Bergmann Voigt Sauer "
        "Heß Weigand Roßmann Dörr Trapp Eckert Faust Reuter Seipel Zöller Bonnet Gaillard "
        "Chevalier Rousselet",
    ),
    _origin(
        12,
        "Ayşe Fatma Emine Elif Zeynep Merve Büşra Esra Derya Gül Hatice Sevgi Özlem Canan Dilek "
        "Songül Yasemin Çiğdem Nur Selin",
        "Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim Murat Emre Burak Can Serkan Kemal Osman "
        "Yusuf Cem Tarık Oğuz Volkan Deniz",
        "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç "
        "Aslan Çetin Kara Koç Kurt Özkan Şimşek Polat Korkmaz Güneş Aktaş Erdem",
    ),
    _origin(
        5,
        "Katarzyna Agnieszka Małgorzata Joanna Magdalena Ewa Monika Dorota Beata Justyna "
        "Aleksandra",
        "Piotr Krzysztof Tomasz Paweł Łukasz Marcin Michał Grzegorz Jakub Wojciech Andrzej Mateusz",
        "Nowak Kowalski|Kowalska Wiśniewski|Wiśniewska Wójcik Kowalczyk Kamiński|Kamińska "
        "Lewandowski|Lewandowska Zieliński|Zielińska Szymański|Szymańska Woźniak "
        "Dąbrowski|Dąbrowska Kozłowski|Kozłowska Mazur Krawczyk Grabowski|Grabowska",
    ),
    _origin(
        5,
        "Giulia Francesca Chiara Sara Valentina Alessandra Federica Maria Elena Silvia Paola",
        "Marco Giuseppe Antonio Luca Francesco Alessandro Matteo Davide Salvatore Giovanni "
        "Stefano Roberto",
        "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo "
        "Conti De_Luca Costa Lombardi Mancini Caruso Di_Stefano",
    ),
    _origin(
        5,
        "Ivana Marija Ana Jelena Snježana Mirela Vesna Maja Amra Lejla Sanja Dženana",
        "Ivan Marko Goran Zoran Dragan Željko Nikola Tomislav Dario Emir Adnan Stjepan",
        "Horvat Kovačević Babić Marić Jurić Novak Knežević Petrović Šimić Đurić Popović "
        "Jovanović Hodžić Begović Mehmedović Vuković",
    ),
    _origin(
        3,
        "Eleni Maria Sofia Georgia Katerina Dimitra Anastasia Ioanna",
        "Georgios Konstantinos Dimitrios Nikolaos Christos Ioannis Panagiotis Vasilios",
        "Papadopoulos|Papadopoulou Georgiou Dimitriou Nikolaidis|Nikolaidou "
        "Karagiannis|Karagianni Vlachos|Vlachou Papadakis|Papadaki Christodoulou Oikonomou",
    ),
    _origin(
        5,
        "Natalja Olga Swetlana Irina Tatjana Jelena Anastasia Oksana Julia Viktoria",
        "Sergej Alexander Dmitri Andrej Wladimir Juri Viktor Oleg Maxim Artjom Waldemar Eduard",
        "Iwanow|Iwanowa Petrow|Petrowa Smirnow|Smirnowa Kusnezow|Kusnezowa Wolkow|Wolkowa "
        "Schewtschenko Kowalenko Bondarenko Dick Unruh Penner Klassen Janzen Friesen",
    ),
    _origin(
        3.5,
        "Fatima Amal Rania Nour Layla Hiba Samira Yasmin Malak Aya Salma",
        "Mohammed Omar Ahmad Khaled Yousef Karim Samir Tarek Bilal Hamza Rami",
        "Al-Hassan Haddad Khalil Nasser Mansour Saleh Ibrahim El_Amrani Benali Abdallah Haidar "
        "Darwish Al-Khatib Boukhari",
    ),
    _origin(
        1.5,
        "Linh Mai Thu Hoa Lan Trang Hương",
        "Minh Đức Tuấn Hùng Long Quang Thanh Khoa",
        "Nguyễn Trần Lê Phạm Hoàng Vũ Đỗ Đặng",
    ),
    _origin(
        1.5,
        "Inês Mariana Lucía Carmen Beatriz",
        "João José Miguel Javier Rui",
        "Ferreira Silva Santos García Fernández Rodrigues Martínez",
    ),
    _origin(
        1.5,
        "Ioana Andreea Elena Mihaela",
        "Andrei Mihai Adrian Bogdan",
        "Popescu Ionescu Constantinescu Dumitru Stan",
    ),
    _origin(
        1.5,
        "Mariam Parisa Shirin Zahra Maryam",
        "Farid Reza Ahmad Navid Omid",
        "Ahmadi Rahimi Karimi Hosseini Sadeghi Azizi",
    ),
    _origin(
        1,
        "Senait Akosua Abena Helen",
        "Dawit Kwame Yaw Samuel",
        "Tesfaye Mehari Mensah Owusu Asante",
    ),
)
ORIGIN_WEIGHTS = [origin.weight for origin in ORIGINS]
