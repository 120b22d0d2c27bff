"""The craft tables the offline drafts are built from.

Genre conventions, plot engines (Booker's basic plots and Save the Cat's story
genres), inner needs, tones, names, and the two beat structures the outline
task fills in. Plain data, so a writer can extend it without touching the
generator code in :mod:`workbench.ai.offline_story`, :mod:`~workbench.ai.offline_pages` and
:mod:`~workbench.ai.offline_edits`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "GenreConventions",
    "GENRES",
    "GENRE_ALIASES",
    "PlotEngine",
    "PLOT_ENGINES",
    "NEEDS",
    "TONES",
    "TONE_ALIASES",
    "GENRE_TONES",
    "NIGHT_LIGHT",
    "FIRST_NAMES",
    "SURNAMES",
    "TITLE_PATTERNS",
    "SETTING_FRAMES",
    "SAVE_THE_CAT",
    "THREE_ACT",
    "STOPWORDS",
]


@dataclass(frozen=True)
class GenreConventions:
    """What an audience expects from a genre: its worlds, people, opponents and turns."""

    settings: tuple[str, ...]
    roles: tuple[str, ...]
    opponents: tuple[str, ...]
    goals: tuple[str, ...]
    stakes: tuple[str, ...]
    twists: tuple[str, ...]
    set_pieces: tuple[str, ...]
    locations: tuple[str, ...]
    engines: tuple[str, ...]


GENRES: dict[str, GenreConventions] = {
    "drama": GenreConventions(
        settings=("a shrinking mill town on a wide brown river", "a crowded family restaurant in its last season",
                  "a hospital ward on the night shift", "a farm that has been in the family for four generations"),
        roles=("night-shift nurse", "widowed cook", "union organiser", "piano teacher", "eldest daughter"),
        opponents=("a brother who never forgave them", "the bank that holds the mortgage", "a charming developer"),
        goals=("the family house", "a place at the conservatory", "custody of their son"),
        stakes=("the family's last home", "their son's future", "the only job in town"),
        twists=("the parent they blamed made the sacrifice that saved them", "the letter was never sent",
                "the rival wants the same thing for the same reason"),
        set_pieces=("a wedding toast that turns into a confession", "a kitchen fight during the dinner rush"),
        locations=("KITCHEN", "HOSPITAL CORRIDOR", "FRONT PORCH", "BUS STATION", "RIVERBANK"),
        engines=("Rebirth", "Rites of Passage", "Buddy Love", "Institutionalized"),
    ),
    "comedy": GenreConventions(
        settings=("a wedding weekend at a failing seaside hotel", "an open-plan start-up selling smart socks",
                  "a suburban cul-de-sac with a fierce garden competition"),
        roles=("substitute teacher", "wedding planner", "failed magician", "overqualified intern"),
        opponents=("a smug rival with perfect teeth", "a mother-in-law with a spreadsheet", "the homeowners' committee"),
        goals=("the best-in-show trophy", "the job they lied to get", "one perfect wedding"),
        stakes=("their reputation", "the family business", "the only date they have had in years"),
        twists=("the rival was secretly their biggest fan", "the disaster was the best thing that could happen",
                "they were never actually fired"),
        set_pieces=("a speech delivered with the wrong cue cards", "a chase through a garden show"),
        locations=("HOTEL BALLROOM", "OPEN-PLAN OFFICE", "BACK GARDEN", "CHURCH HALL", "CAR PARK"),
        engines=("Fish Out of Water", "Buddy Love", "Golden Fleece", "Rags to Riches"),
    ),
    "thriller": GenreConventions(
        settings=("a rain-soaked port city", "a glass tower of private banks", "a border town with one road out",
                  "a data centre under a frozen lake"),
        roles=("night-shift paramedic", "disgraced analyst", "courier", "embassy translator", "retired safecracker"),
        opponents=("a security contractor with friends in every agency", "a fixer who never raises his voice",
                   "the partner they trusted most"),
        goals=("the ledger that names everyone", "a way out of the country", "the recording that clears them"),
        stakes=("their sister's life", "their freedom", "the city's water supply"),
        twists=("the client who hired them is the real target", "the ledger is a fake built to flush out the leak",
                "the voice on the phone belongs to someone they buried"),
        set_pieces=("a hand-off on a moving train", "a chase through a crowded night market"),
        locations=("HARBOR", "PARKING GARAGE", "SAFE HOUSE", "TRAIN PLATFORM", "SERVER ROOM"),
        engines=("Dude with a Problem", "Whydunit", "Overcoming the Monster", "Golden Fleece"),
    ),
    "horror": GenreConventions(
        settings=("a lakeside cabin cut off by snow", "a care home where the clocks all stop at 3 a.m.",
                  "a new-build estate on drained marshland"),
        roles=("home nurse", "radio host", "grieving father", "teenage babysitter", "locksmith"),
        opponents=("something that only moves when nobody looks", "the previous tenant who never left",
                   "a congregation that smiles too much"),
        goals=("one night without hearing the knocking", "the truth about the missing children", "a way out before dawn"),
        stakes=("the child in their care", "their own mind", "everyone left in the house"),
        twists=("the house is protecting them from what is outside", "they are the ghost",
                "the ritual worked the first time"),
        set_pieces=("a search of the cellar with one dying torch", "a power cut during the storm"),
        locations=("CELLAR", "NURSERY", "CABIN", "FOREST ROAD", "ATTIC"),
        engines=("Overcoming the Monster", "Voyage and Return", "Dude with a Problem"),
    ),
    "sci-fi": GenreConventions(
        settings=("a generation ship two centuries from anywhere", "a flooded megacity run by a polite AI",
                  "a mining colony on a tidally locked moon"),
        roles=("hull engineer", "memory broker", "orbital medic", "cartographer of dead satellites", "android caretaker"),
        opponents=("the colony's benevolent AI", "a corporation that owns the air", "their own future self"),
        goals=("the coordinates of home", "a cure smuggled from orbit", "the last unedited memory"),
        stakes=("ten thousand sleeping colonists", "their daughter's memories", "the only breathable district"),
        twists=("the ship reached its destination a century ago", "they are the copy, not the original",
                "the AI has been keeping everyone alive by lying"),
        set_pieces=("a spacewalk through a debris field", "a memory heist inside a dream"),
        locations=("CARGO BAY", "BRIDGE", "HYDROPONICS DECK", "AIRLOCK", "MARKET TUNNEL"),
        engines=("The Quest", "Voyage and Return", "Institutionalized", "Overcoming the Monster"),
    ),
    "fantasy": GenreConventions(
        settings=("a river kingdom where rain is rationed by magic", "a city built on the back of a sleeping giant",
                  "a forest that rearranges itself every full moon"),
        roles=("apprentice mapmaker", "exiled knight", "tax collector with a secret gift", "lamplighter"),
        opponents=("a queen who trades in names", "the guild that owns all magic", "a dragon with a legal claim"),
        goals=("the crown no one can lift", "the name stolen from their sister", "the last seed of the old forest"),
        stakes=("the kingdom's harvest", "their sister's soul", "the border between the worlds"),
        twists=("the prophecy was about the villain", "the mentor forged the map", "the curse was a kindness"),
        set_pieces=("a bargain at a goblin market", "a duel on a bridge of ice"),
        locations=("THRONE ROOM", "WOODS", "MOUNTAIN PASS", "TAVERN", "TOWER LIBRARY"),
        engines=("The Quest", "Rags to Riches", "Overcoming the Monster", "Rites of Passage"),
    ),
    "romance": GenreConventions(
        settings=("a bookshop in a seaside town out of season", "a vineyard during the last harvest",
                  "two flats that share a thin wall"),
        roles=("florist", "ferry captain", "wedding photographer", "translator", "pastry chef"),
        opponents=("the ex who came back", "a rule that forbids it", "their own fear of being left"),
        goals=("a second chance with their first love", "the bookshop lease", "one honest conversation"),
        stakes=("the one relationship that ever felt true", "their career abroad", "a promise made at a funeral"),
        twists=("the anonymous letters were written by the rival", "they met once before, as children",
                "the fake engagement was real from the start"),
        set_pieces=("a dance at a stranger's wedding", "a night locked in after closing"),
        locations=("BOOKSHOP", "FERRY DECK", "VINEYARD", "STAIRWELL", "TRAIN CARRIAGE"),
        engines=("Buddy Love", "Fish Out of Water", "Rebirth"),
    ),
    "crime": GenreConventions(
        settings=("a neon-lit waterfront where the cops are paid twice", "a family-run casino in the desert",
                  "an auction house that launders paintings"),
        roles=("burned-out detective", "getaway driver", "forger", "public defender", "bookkeeper for the mob"),
        opponents=("a police captain on the payroll", "the family patriarch", "a rival crew led by an old friend"),
        goals=("one last score", "the name of the killer", "the evidence locker's contents"),
        stakes=("their partner's life", "the witness they promised to protect", "twenty years of lies"),
        twists=("the victim staged the murder", "the informant is the detective's own brother",
                "the money was marked from the start"),
        set_pieces=("a heist during a blackout", "an interrogation where the suspect asks the questions"),
        locations=("PRECINCT", "DINER", "BACK ALLEY", "CASINO FLOOR", "WAREHOUSE"),
        engines=("Whydunit", "Golden Fleece", "Institutionalized", "Tragedy"),
    ),
    "mystery": GenreConventions(
        settings=("an island hotel cut off by the tide", "a village where everyone lies about the same night",
                  "a museum after hours"),
        roles=("retired schoolteacher", "insurance investigator", "crossword setter", "coroner's assistant"),
        opponents=("a killer hiding among the guests", "a family guarding its reputation", "a too-helpful witness"),
        goals=("the name of the killer before the tide turns", "the missing painting", "what happened in 1998"),
        stakes=("an innocent man's freedom", "the next victim", "their own alibi"),
        twists=("there were two murderers who never met", "the first victim is alive",
                "the detective's client wrote the anonymous note"),
        set_pieces=("a dinner where every guest has a motive", "a search of the victim's locked study"),
        locations=("DRAWING ROOM", "LIBRARY", "BOATHOUSE", "VILLAGE PUB", "MUSEUM GALLERY"),
        engines=("Whydunit", "Dude with a Problem"),
    ),
    "western": GenreConventions(
        settings=("a railroad town at the edge of the desert", "a drought-struck valley of small ranches"),
        roles=("ageing marshal", "widowed rancher", "travelling preacher", "stagecoach driver"),
        opponents=("a cattle baron who owns the water rights", "the gang that burned their farm", "the railroad"),
        goals=("the deed to the valley", "justice for their brother", "safe passage to the coast"),
        stakes=("the settlers' water", "their land", "a town's only witness"),
        twists=("the outlaw is their father", "the deed is forged", "the marshal sold the town"),
        set_pieces=("a standoff at high noon", "a river crossing during a flash flood"),
        locations=("SALOON", "MAIN STREET", "RANCH HOUSE", "CANYON", "JAILHOUSE"),
        engines=("Overcoming the Monster", "The Quest", "Rebirth"),
    ),
    "action": GenreConventions(
        settings=("a skyscraper during a citywide blackout", "an oil platform in a hurricane",
                  "a mountain highway with no guardrails"),
        roles=("stunt driver", "firefighter", "ex-special-forces chef", "air-traffic controller"),
        opponents=("a mercenary crew posing as a film unit", "the man who trained them", "a rogue general"),
        goals=("the hostage on the fortieth floor", "the detonator codes", "the last helicopter out"),
        stakes=("their estranged family", "a city of eight million", "the whole crew"),
        twists=("the hostage planned the attack", "the countdown is a decoy", "their handler sold them out"),
        set_pieces=("a fight in a falling elevator", "a truck chase across a collapsing bridge"),
        locations=("ROOFTOP", "STAIRWELL", "CONTROL TOWER", "HIGHWAY", "ENGINE ROOM"),
        engines=("Dude with a Problem", "Overcoming the Monster", "Golden Fleece"),
    ),
    "coming-of-age": GenreConventions(
        settings=("a summer at a lakeside camp", "the last year of school in a factory town",
                  "a family road trip in a borrowed van"),
        roles=("sixteen-year-old drummer", "scholarship kid", "youngest of five", "new girl in town"),
        opponents=("a parent who has already decided their future", "the friend who is outgrowing them",
                   "the school's golden boy"),
        goals=("a place in the band", "a kiss before the summer ends", "the scholarship"),
        stakes=("their oldest friendship", "their place in the family", "the only way out of town"),
        twists=("the friend was leaving all along", "the parent had the same dream", "the rival is just as scared"),
        set_pieces=("a talent show that goes wrong", "a night swim that ends in a confession"),
        locations=("BEDROOM", "SCHOOL HALLWAY", "LAKE DOCK", "GARAGE", "DINER"),
        engines=("Rites of Passage", "Buddy Love", "Fish Out of Water"),
    ),
}

GENRE_ALIASES: dict[str, str] = {
    "science fiction": "sci-fi", "scifi": "sci-fi", "sf": "sci-fi", "space": "sci-fi",
    "noir": "crime", "neo-noir": "crime", "heist": "crime", "gangster": "crime",
    "romcom": "romance", "rom-com": "romance", "love story": "romance",
    "whodunit": "mystery", "detective": "mystery", "suspense": "thriller", "spy": "thriller",
    "adventure": "action", "coming of age": "coming-of-age", "teen": "coming-of-age",
    "family": "drama", "melodrama": "drama", "slasher": "horror", "ghost": "horror", "supernatural": "horror",
    "magic": "fantasy", "fairy tale": "fantasy",
}


@dataclass(frozen=True)
class PlotEngine:
    """A classic plot shape: what the hero chases, what starts it, what pushes back."""

    want: str
    inciting: str
    conflict: str


# Slots: {goal} {opponent} {stakes} {kw}. "They" is the protagonist.
PLOT_ENGINES: dict[str, PlotEngine] = {
    "Overcoming the Monster": PlotEngine(
        "stop {opponent} before {stakes} is lost", "{opponent} makes the first move against {stakes}",
        "{opponent} is stronger, richer and always one step ahead"),
    "The Quest": PlotEngine(
        "find {goal}", "a clue to {goal} surfaces, bound up with the {kw}",
        "every step toward {goal} costs them an ally"),
    "Rags to Riches": PlotEngine(
        "win {goal} and never be invisible again", "a once-in-a-lifetime shot at {goal} appears",
        "success means betraying the people who got them there"),
    "Voyage and Return": PlotEngine(
        "get back to the life they left", "a wrong turn strands them in the world of the {kw}",
        "the longer they stay, the less they want to leave"),
    "Rebirth": PlotEngine(
        "undo the damage they did", "the past comes back in the shape of the {kw}",
        "the only person who can help is the one they hurt"),
    "Tragedy": PlotEngine(
        "take {goal} whatever it costs", "a chance at {goal} is dangled in front of them",
        "each win pulls them further from who they were"),
    "Golden Fleece": PlotEngine(
        "pull off one impossible job: {goal}", "they are offered one last job, with {goal} as the prize",
        "the crew trusts each other less than they trust {opponent}"),
    "Whydunit": PlotEngine(
        "uncover the truth behind the {kw}", "a body, a lie and a missing file all point at {opponent}",
        "the deeper they dig, the closer the truth comes to home"),
    "Dude with a Problem": PlotEngine(
        "survive the night and protect {stakes}", "an ordinary day turns deadly around the {kw}",
        "no one believes them, and {opponent} is closing in"),
    "Rites of Passage": PlotEngine(
        "prove they belong", "a loss forces them to grow up overnight",
        "the person they most need to impress is the one holding them back"),
    "Buddy Love": PlotEngine(
        "win the trust of the one person who sees through them", "a chance meeting over the {kw} throws them together",
        "what each of them wants would cost the other everything"),
    "Fish Out of Water": PlotEngine(
        "fit in long enough to win {goal}", "they are dropped into the world of the {kw}, where the rules are not theirs",
        "the disguise gets harder to keep every day"),
    "Institutionalized": PlotEngine(
        "bring down {opponent} from the inside", "they join the very group that wronged them",
        "the group is starting to feel like family"),
}

# Inner needs and the flaw that hides each one (a verb phrase: "Mara does everything alone").
NEEDS: tuple[tuple[str, str], ...] = (
    ("to let other people help", "does everything alone"),
    ("to forgive themselves for the accident", "punishes themselves and everyone close"),
    ("to tell the truth, even when it costs them", "lies to keep the peace"),
    ("to stop waiting for permission", "never takes a risk of their own"),
    ("to let go of the past", "lives in the year it all went wrong"),
    ("to accept that they cannot control everything", "plans every second of every day"),
    ("to put people before winning", "keeps score of everything"),
    ("to believe they deserve to be loved", "pushes away anyone who gets close"),
)

# Tone: adjectives for people, and the kind of light a frame has.
TONES: dict[str, dict[str, tuple[str, ...]]] = {
    "dark": {"adjectives": ("haunted", "ruthless", "hollowed-out", "bitter"), "light": ("hard shadows", "sodium light")},
    "tense": {"adjectives": ("wary", "exhausted", "cornered", "sharp-eyed"), "light": ("low-key light", "cold fluorescents")},
    "hopeful": {"adjectives": ("stubborn", "big-hearted", "restless", "earnest"), "light": ("warm morning light", "golden hour")},
    "comedic": {"adjectives": ("hapless", "overconfident", "hopelessly honest", "chaotic"), "light": ("bright, even light", "sunny daylight")},
    "bittersweet": {"adjectives": ("wistful", "tender", "guarded", "lonely"), "light": ("soft window light", "fading dusk")},
    "whimsical": {"adjectives": ("dreamy", "curious", "eccentric", "wide-eyed"), "light": ("pastel daylight", "fairy lights")},
    "romantic": {"adjectives": ("lovesick", "guarded", "charming", "impulsive"), "light": ("candlelight", "golden hour")},
    "gritty": {"adjectives": ("battle-scarred", "broke", "streetwise", "tired"), "light": ("harsh daylight", "flickering neon")},
}
# The tone a genre falls back on when the writer names none.
GENRE_TONES: dict[str, tuple[str, ...]] = {
    "drama": ("bittersweet", "hopeful", "gritty"), "comedy": ("comedic", "whimsical"), "thriller": ("tense", "dark"),
    "horror": ("dark", "tense"), "sci-fi": ("tense", "hopeful", "dark"), "fantasy": ("whimsical", "hopeful", "dark"),
    "romance": ("romantic", "bittersweet", "comedic"), "crime": ("gritty", "dark"), "mystery": ("tense", "whimsical"),
    "western": ("gritty", "bittersweet"), "action": ("tense", "gritty"), "coming-of-age": ("bittersweet", "hopeful"),
}
NIGHT_LIGHT = ("Darkness, broken by one bare bulb", "Moonlight through dirty glass", "Blue night light",
               "Streetlight bleeding through the blinds")
TONE_ALIASES = {"funny": "comedic", "light": "comedic", "grim": "dark", "bleak": "dark", "suspenseful": "tense",
                "uplifting": "hopeful", "warm": "hopeful", "melancholy": "bittersweet", "sad": "bittersweet",
                "playful": "whimsical", "realistic": "gritty", "noir": "dark", "romance": "romantic"}

FIRST_NAMES = ("Mara", "Jonah", "Ines", "Teo", "Ruth", "Kofi", "Lena", "Sam", "Nadia", "Eli", "Odile", "Rafa",
               "June", "Amos", "Priya", "Hollis", "Wren", "Tomas", "Dara", "Felix", "Ada", "Mateo", "Noor", "Casey")
SURNAMES = ("Quinn", "Okafor", "Bell", "Marsh", "Varga", "Holloway", "Reyes", "Lindqvist", "Achebe", "Doyle",
            "Nakamura", "Price", "Sorensen", "Castillo", "Hart", "Keane", "Mercer", "Abara", "Voss", "Lowry")

# How a keyword lives in a setting: "<genre setting><frame>".
SETTING_FRAMES = (", where the {kw} shapes every life", ", in the long shadow of the {kw}",
                  ", where nobody talks about the {kw}", ", in the season of the {kw}")

TITLE_PATTERNS = ("The {Kw}", "{Kw} Season", "After the {Kw}", "The Last {Kw}", "{Kw} Road", "A {Kw} for {Name}",
                  "Under the {Kw}", "{Name} and the {Kw}", "The {Kw} Hours", "What the {Kw} Knew")

# (beat name, act, page, template). Slots: {name} {want} {need} {flaw} {conflict} {setting} {twist}
# {opponent} {stakes} {ally} {inciting} {set_piece} {kw} {new_world} {place} (the setting up to its first comma).
SAVE_THE_CAT: tuple[tuple[str, int, int, str], ...] = (
    ("Opening Image", 1, 1, "In {setting}, {name} goes through the motions and {flaw}. A snapshot of the world before it changes."),
    ("Theme Stated", 1, 5, "{ally} tells {name} what this story is about, {need}, and {name} laughs it off."),
    ("Set-Up", 1, 8, "We learn what {name} stands to lose ({stakes}), who stands in the way ({opponent}) and the flaw that will cost them: {name} {flaw}."),
    ("Catalyst", 1, 12, "Everything tips: {inciting}. {name} can no longer look away."),
    ("Debate", 1, 18, "Should {name} {want}? {opponent} makes the price clear, and {name} hesitates."),
    ("Break into Two", 2, 25, "{name} decides to {want} and steps into {new_world}."),
    ("B Story", 2, 30, "{ally} becomes the relationship that carries the theme: {need}."),
    ("Fun and Games", 2, 40, "The promise of the premise: {set_piece}. {name} gets closer, and the {kw} keeps turning up."),
    ("Midpoint", 2, 55, "A false victory: {name} seems to win, until {opponent} strikes back and {stakes} is on the line."),
    ("Bad Guys Close In", 2, 65, "The pressure mounts: {conflict}. Doubt splits {name} from {ally}."),
    ("All Is Lost", 2, 75, "{name} loses what mattered most; the whiff of death hangs over the {kw}."),
    ("Dark Night of the Soul", 2, 80, "Alone, {name} faces the flaw at last and understands they need {need}."),
    ("Break into Three", 3, 85, "The missing piece: {twist}. {name} finds a new way in, with {ally} beside them."),
    ("Finale", 3, 95, "{name} confronts {opponent}; this time {name} manages {need}, and wins what really matters."),
    ("Final Image", 3, 110, "The mirror of the opening: {place} again, but {name} has changed."),
)

THREE_ACT: tuple[tuple[str, int, int, str], ...] = (
    ("Setup", 1, 1, "In {setting}, {name} {flaw}, and quietly wishes to {want}."),
    ("Inciting Incident", 1, 12, "{inciting}, and {name}'s ordinary life is over."),
    ("Lock-In", 1, 25, "{name} commits: they will {want}, whatever {opponent} does."),
    ("Rising Complications", 2, 40, "{set_piece}; {conflict}. {ally} joins {name}, with reservations."),
    ("Midpoint", 2, 55, "The truth shifts around the {kw}: {name} wins a battle but the stakes rise to {stakes}."),
    ("Crisis", 2, 75, "{opponent} takes everything; {name} has to face that they need {need}."),
    ("Climax", 3, 95, "Knowing that {twist}, {name} confronts {opponent} in a final, costly choice."),
    ("Resolution", 3, 110, "After the storm, {place} looks different, and so does {name}."),
)

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each either every few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor
not now of off on once only or other our ours out over own same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours yourself story film movie about scene
something someone thing things one two three get gets got make makes made take takes took goes went come comes
must need needs want wants find finds found tell tells told say says said keep keeps know knows see sees like
please write give draft idea ideas logline loglines outline treatment screenplay pitch beat beats prompt prompts
""".split())
