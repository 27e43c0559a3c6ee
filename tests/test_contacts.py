"""Contact normalisation, ad-platform hashing and formula escaping (rfm_cli.core.contacts).

Expected hashes are computed here with hashlib from the platforms' published rules, written out by hand,
so a change in the module's normalisation shows up as a mismatch rather than agreeing with itself.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm_cli.core.cell_escaping import escape_formula, is_formula_like
from rfm_cli.core.contact_hashing import google_hash, meta_hash
from rfm_cli.core.contacts import normalize_emails, normalize_phones


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- phones: the hard cases from real exports -----------------------------------------------------------

MOBILE = ("13812345678", "+8613812345678", None)

PHONE_CASES = [
    # (cell, (phone_national, phone_e164, phone_drop_reason))
    ("13812345678", MOBILE),
    ("138****1234", (None, None, "masked")),  # Taobao
    ("1387677****", (None, None, "masked")),  # Pinduoduo
    ("138xxxx1234", (None, None, "masked")),
    ("138••••1234", (None, None, "masked")),
    ("010-12345678", ("1012345678", "+861012345678", "landline")),
    ("0755-88888888", ("75588888888", "+8675588888888", "landline")),
    ("0755 8888 8888", ("75588888888", "+8675588888888", "landline")),
    ("+86 10 1234 5678", ("1012345678", "+861012345678", "landline")),
    ("+86 138 1234 5678", MOBILE),
    ("+86 (0)138 1234 5678", MOBILE),
    ("0086-13812345678", MOBILE),
    ("8613812345678", MOBILE),
    ("138 1234 5678", MOBILE),
    ("138-1234-5678", MOBILE),
    ("138.1234.5678", MOBILE),
    ("(138) 1234-5678", MOBILE),
    ('="13812345678"', MOBILE),  # Excel force-text wrapper
    ("\t13812345678", MOBILE),  # Douyin / Pinduoduo leading tab
    ("'13812345678", MOBILE),
    ('"13812345678"', MOBILE),
    ("13812345678.0", MOBILE),  # float-ified by a pandas round trip
    ("1.3812345678E+10", MOBILE),  # Excel scientific display, no digit lost
    ("１３８１２３４５６７８", MOBILE),  # full-width digits
    ("＋８６ １３８ １２３４ ５６７８", MOBILE),
    ("138\u200b1234\u200b5678", MOBILE),  # zero-width spaces pasted from chat
    ("", (None, None, "missing")),
    ("   ", (None, None, "missing")),
    (None, (None, None, "missing")),
    ("无", (None, None, "missing")),
    ("1381234567", (None, None, "invalid")),  # ten digits
    ("138123456789", (None, None, "invalid")),  # twelve digits
    ("12812345678", (None, None, "invalid")),  # second digit 2
    ("1.38E+10", (None, None, "invalid")),  # Excel already lost eight digits
    ("+1 415 555 2671", ("4155552671", "+14155552671", None)),  # US: FIXED_LINE_OR_MOBILE is kept
    ("+44 20 7946 0958", ("2079460958", "+442079460958", "landline")),  # London fixed line
    ("+44 7911 123456", ("7911123456", "+447911123456", None)),  # UK mobile
    ("+852 9123 4567", ("91234567", "+85291234567", None)),  # Hong Kong mobile
    ("400 810 8888", ("4008108888", "+864008108888", "landline")),  # CN service number: no SMS
]


@pytest.mark.parametrize(("cell", "expected"), PHONE_CASES, ids=[repr(case[0]) for case in PHONE_CASES])
def test_normalize_phones_hard_cases(cell, expected):
    result = normalize_phones(pl.Series([cell], dtype=pl.String))
    assert result.columns == ["phone_national", "phone_e164", "phone_drop_reason"]
    assert result.row(0) == expected


@pytest.mark.parametrize("block", range(130, 200))
def test_every_cn_mobile_block_is_usable(block):
    # SMS gateways take any 1[3-9] number (BRIEF §5), including blocks phonenumbers does not know yet
    # (140-149, 154, 16x, 174, 179, 194 ...): carriers open new ones faster than its metadata follows.
    digits = f"{block}12345678"
    cells = pl.Series([digits, f"+86 {digits}", f"0086-{digits}", f"86{digits}"])
    assert normalize_phones(cells).rows() == [(digits, "+86" + digits, None)] * 4


def test_normalize_phones_whole_column_keeps_rows_and_order():
    # Fast-path and library rows interleaved, slow values repeated: the join back must keep every row.
    cells = [case[0] for case in PHONE_CASES] * 3
    result = normalize_phones(pl.Series("phone", cells))
    assert result.height == len(cells)
    assert result.rows() == [case[1] for case in PHONE_CASES] * 3
    assert all(dtype == pl.String for dtype in result.dtypes)


def test_large_column_keeps_order():
    # Big enough for Polars to parallelise the join of library results back onto the rows.
    pattern = ["138{:08d}", "010-12345678", "+1 415 555 2671", "138****1234", None, "1381234567"]
    cells = [None if p is None else p.format(i) for i in range(50_000) for p in pattern]
    nationals = normalize_phones(pl.Series(cells)).get_column("phone_national").to_list()
    others = ["1012345678", "4155552671", None, None, None]
    assert nationals == [value for i in range(50_000) for value in (f"138{i:08d}", *others)]


def test_normalize_phones_numeric_columns():
    # Excel/CSV readers hand phones over as integers or floats.
    assert normalize_phones(pl.Series([13812345678, None])).rows() == [MOBILE, (None, None, "missing")]
    assert normalize_phones(pl.Series([13812345678.0, 8613812345678.0])).rows() == [MOBILE, MOBILE]


def test_normalize_phones_empty_and_all_null():
    empty = normalize_phones(pl.Series([], dtype=pl.String))
    assert empty.shape == (0, 3)
    assert empty.columns == ["phone_national", "phone_e164", "phone_drop_reason"]
    assert normalize_phones(pl.Series([None, None])).rows() == [(None, None, "missing")] * 2


def test_normalize_phones_other_default_region():
    phones = pl.Series(["(415) 555-2671", "+86 138 1234 5678", "13812345678"])
    assert normalize_phones(phones, default_region="US").rows() == [
        ("4155552671", "+14155552671", None),
        MOBILE,  # an explicit +86 is Chinese whatever the default
        (None, None, "invalid"),  # read as a US number, and there is no such US number
    ]


def test_unknown_default_region_is_refused():
    with pytest.raises(ValueError, match="unknown phone region"):
        normalize_phones(pl.Series(["4155552671"]), default_region="XX")


def test_normalize_phones_region_is_case_insensitive():
    assert normalize_phones(pl.Series(["13812345678"]), default_region="cn").row(0) == MOBILE


def test_import_is_light_and_cn_mobiles_never_load_phonenumbers():
    # The core knows no screen (STYLE §2), and phonenumbers' metadata is only loaded when needed.
    code = (
        "import sys, polars as pl\n"
        "from rfm_cli.core.contacts import normalize_phones\n"
        "assert 'typer' not in sys.modules and 'rich' not in sys.modules, 'core imports a UI library'\n"
        "normalize_phones(pl.Series(['138 1234 5678', '138****1234', None]))\n"
        "assert 'phonenumbers' not in sys.modules, 'phonenumbers loaded for CN mobiles'\n"
        "normalize_phones(pl.Series(['+1 415 555 2671']))\n"
        "assert 'phonenumbers' in sys.modules\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


# --- phones: properties ---------------------------------------------------------------------------------

cn_mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)

# How people and exports write the same mobile: groupings, separators and prefixes seen in the field.
GROUPINGS = [(11,), (3, 4, 4), (3, 8), (7, 4)]
SEPARATORS = ["", " ", "  ", "-", ".", "\u2010", "\u3000"]
PREFIXES = ["", "+86", "+86 ", "+86-", "0086", "0086 ", "86", "(+86) ", "+86 (0)", "0"]


def _full_width(text: str) -> str:
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789+"})


@st.composite
def written_mobiles(draw):
    digits = draw(cn_mobiles)
    grouping = draw(st.sampled_from(GROUPINGS))
    separator = draw(st.sampled_from(SEPARATORS))
    groups, start = [], 0
    for size in grouping:
        groups.append(digits[start : start + size])
        start += size
    text = draw(st.sampled_from(PREFIXES)) + separator.join(groups)
    if draw(st.booleans()):
        text = _full_width(text)
    wrapper = draw(st.sampled_from(["{}", " {} ", "\t{}", "'{}", '="{}"', '"{}"', "{}\u200b"]))
    return digits, wrapper.format(text)


@given(written_mobiles())
@settings(max_examples=300)
def test_any_written_cn_mobile_normalises_back_to_itself(case):
    digits, written = case
    result = normalize_phones(pl.Series([written]))
    assert result.row(0) == (digits, "+86" + digits, None), written


@given(cn_mobiles)
def test_float_ified_cn_mobile_normalises_back_to_itself(digits):
    for cell in (f"{digits}.0", f"{digits}.00"):
        assert normalize_phones(pl.Series([cell])).row(0) == (digits, "+86" + digits, None)
    assert normalize_phones(pl.Series([float(digits)])).row(0) == (digits, "+86" + digits, None)


@given(cn_mobiles)
def test_fast_path_agrees_with_phonenumbers_where_it_knows_the_block(digits):
    # The fast path is deliberately wider (any 1[3-9] block, as SMS gateways accept), but wherever
    # phonenumbers knows the block, both must produce the same E.164 and national number.
    parsed = phonenumbers.parse(digits, "CN")
    row = normalize_phones(pl.Series([digits])).row(0)
    if phonenumbers.is_valid_number(parsed):
        assert row[0] == phonenumbers.national_significant_number(parsed)
        assert row[1] == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


phone_like_text = st.text(alphabet="0123456789 +-().*xX'\t=\"１３８８６", max_size=20)


@given(st.lists(phone_like_text, max_size=8), st.sampled_from(["CN", "US", "GB"]))
@settings(max_examples=200)
def test_normalising_e164_again_is_idempotent(cells, region):
    first = normalize_phones(pl.Series(cells, dtype=pl.String), default_region=region)
    again = normalize_phones(first.get_column("phone_e164"), default_region=region)
    usable = first.get_column("phone_e164").is_not_null()
    assert again.filter(usable).rows() == first.filter(usable).rows()
    # Rows without a number stay without one.
    assert again.filter(~usable).get_column("phone_e164").null_count() == int((~usable).sum())


@given(st.lists(phone_like_text, max_size=8))
def test_one_output_row_per_input_row_with_known_reasons(cells):
    result = normalize_phones(pl.Series(cells, dtype=pl.String))
    assert result.height == len(cells)
    reasons = set(result.get_column("phone_drop_reason").drop_nulls().to_list())
    assert reasons <= {"missing", "masked", "landline", "invalid"}
    # A usable or landline number always carries its E.164 form; dropped-for-content rows never do.
    for national, e164, reason in result.rows():
        assert (e164 is None) == (reason in {"missing", "masked", "invalid"})
        assert (national is None) == (e164 is None)


# --- emails ---------------------------------------------------------------------------------------------

EMAIL_CASES = [
    ("  Test@Example.COM ", ("test@example.com", None)),
    ("\tBuyer.Name@QQ.com", ("buyer.name@qq.com", None)),
    ('="shop@163.com"', ("shop@163.com", None)),
    ("ｔｅｓｔ＠ｑｑ．ｃｏｍ", ("test@qq.com", None)),  # full-width, from a Chinese input method
    ("user@qq。com", ("user@qq.com", None)),  # ideographic full stop
    ("a***@qq.com", (None, "masked")),
    ("", (None, "missing")),
    ("   ", (None, "missing")),
    (None, (None, "missing")),
    ("not an email", (None, "invalid")),
    ("user@localhost", (None, "invalid")),
    ("@example.com", (None, "invalid")),
    ("user@example.c", (None, "invalid")),
    ("a@b.com; c@d.com", (None, "invalid")),
    ("user@@example.com", (None, "invalid")),
]


@pytest.mark.parametrize(("cell", "expected"), EMAIL_CASES, ids=[repr(case[0]) for case in EMAIL_CASES])
def test_normalize_emails_cases(cell, expected):
    result = normalize_emails(pl.Series([cell], dtype=pl.String))
    assert result.columns == ["email", "email_drop_reason"]
    assert result.row(0) == expected


def test_normalize_emails_whole_column_keeps_rows_and_order():
    cells = [case[0] for case in EMAIL_CASES]
    assert normalize_emails(pl.Series(cells, dtype=pl.String)).rows() == [case[1] for case in EMAIL_CASES]


@given(st.emails())
def test_normalized_email_is_trimmed_lowercase_and_stable(address):
    email, reason = normalize_emails(pl.Series([f"  {address.upper()} "])).row(0)
    if reason is None:
        assert email == email.strip().lower()
        assert normalize_emails(pl.Series([email])).row(0) == (email, None)


# --- hashing --------------------------------------------------------------------------------------------


def test_google_email_hash_trims_and_lowercases():
    hashed = google_hash("email", pl.Series(["  Test@Example.COM ", None]))
    assert hashed.to_list() == [sha256("test@example.com"), None]


def test_google_email_hash_drops_gmail_periods_only():
    hashed = google_hash(
        "email",
        pl.Series(
            ["John.Doe@Gmail.com", "j.o.h.n@googlemail.com", "john.doe+ads@gmail.com", "john.doe@example.com"]
        ),
    )
    assert hashed.to_list() == [
        sha256("johndoe@gmail.com"),
        sha256("john@googlemail.com"),
        # Google's published rule removes periods, not a +suffix.
        sha256("johndoe+ads@gmail.com"),
        sha256("john.doe@example.com"),
    ]


def test_google_phone_hash_is_e164_with_plus():
    assert google_hash("phone", pl.Series(["+8613812345678"])).to_list() == [sha256("+8613812345678")]


def test_google_name_hash_lowercase_no_punctuation():
    hashed = google_hash("name", pl.Series(["  John ", "O'Brien-Smith", "Zoë", "Mary   Ann", "张三", "!!"]))
    assert hashed.to_list() == [
        sha256("john"),
        sha256("obriensmith"),
        sha256("zoë"),
        sha256("mary ann"),
        sha256("张三"),
        None,  # nothing left to hash: null, never sha256("")
    ]


def test_meta_email_hash_keeps_gmail_periods():
    hashed = meta_hash("email", pl.Series(["  Test@Example.COM ", "John.Doe@Gmail.com"]))
    assert hashed.to_list() == [sha256("test@example.com"), sha256("john.doe@gmail.com")]


def test_meta_phone_hash_is_digits_without_plus():
    assert meta_hash("phone", pl.Series(["+8613812345678", None])).to_list() == [
        sha256("8613812345678"),
        None,
    ]


def test_meta_name_and_place_hashes():
    assert meta_hash("fn", pl.Series([" John ", "张 三", "Zoë"])).to_list() == [
        sha256("john"),
        sha256("张三"),
        sha256("zoë"),
    ]
    assert meta_hash("ln", pl.Series(["O'Brien-Smith"])).to_list() == [sha256("obriensmith")]
    assert meta_hash("ct", pl.Series(["San Francisco", "北京市"])).to_list() == [
        sha256("sanfrancisco"),
        sha256("北京市"),
    ]
    assert meta_hash("st", pl.Series([" CA "])).to_list() == [sha256("ca")]


def test_meta_zip_and_country_hashes():
    assert meta_hash("zip", pl.Series(["94107-1234", "SW1A 1AA", "100000"])).to_list() == [
        sha256("94107"),
        sha256("sw1a1aa"),
        sha256("100000"),
    ]
    assert meta_hash("country", pl.Series([" CN ", "us", "China", None])).to_list() == [
        sha256("cn"),
        sha256("us"),
        None,  # not an ISO code: an unmatched hash helps nobody
        None,
    ]


def test_hashing_normalised_phones_end_to_end():
    e164 = normalize_phones(pl.Series(["138 1234 5678", "138****1234"])).get_column("phone_e164")
    assert google_hash("phone", e164).to_list() == [sha256("+8613812345678"), None]
    assert meta_hash("phone", e164).to_list() == [sha256("8613812345678"), None]


@pytest.mark.parametrize("hasher", [google_hash, meta_hash])
def test_phone_hashing_refuses_numbers_that_are_not_e164(hasher):
    with pytest.raises(ValueError, match="E.164"):
        hasher("phone", pl.Series(["+8613812345678", "13812345678"]))


@pytest.mark.parametrize("hasher", [google_hash, meta_hash])
def test_unknown_hash_kind_is_refused(hasher):
    with pytest.raises(ValueError, match="unknown"):
        hasher("birthday", pl.Series(["x"]))


@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=10))
def test_hashes_are_lowercase_hex_and_keep_nulls(values):
    series = pl.Series("fn", values, dtype=pl.String)
    for hashed in (google_hash("name", series), meta_hash("fn", series), meta_hash("email", series)):
        assert hashed.len() == len(values)
        assert hashed.name == "fn"
        for value, digest in zip(values, hashed.to_list(), strict=True):
            if value is None:
                assert digest is None
            if digest is not None:
                assert len(digest) == 64 and digest == digest.lower()
                int(digest, 16)


# --- spreadsheet formulas -------------------------------------------------------------------------------

# Written out here rather than imported: OWASP's CSV-injection list, plus NUL from OWASP ASVS 1.2.10.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def test_escape_formula_cases():
    cells = ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "张三", "a=b", "", None, "'=1"]
    assert escape_formula(pl.Series(cells)).to_list() == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "张三",
        "a=b",
        "",
        None,
        "'=1",
    ]


def test_is_formula_like_flags_e164_phones():
    flags = is_formula_like(pl.Series(["+8613812345678", "13812345678", None]))
    assert flags.to_list() == [True, False, False]


@pytest.mark.parametrize("function", [escape_formula, is_formula_like])
def test_formula_helpers_refuse_numbers(function):
    # A negative amount is a number, not an attack: quoting it would turn it into text.
    with pytest.raises(TypeError):
        function(pl.Series([-5, 3]))


@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=10))
def test_escape_formula_properties(values):
    series = pl.Series("name", values, dtype=pl.String)
    escaped = escape_formula(series)
    assert escaped.name == "name"
    for before, after in zip(values, escaped.to_list(), strict=True):
        if before is None:
            assert after is None
        elif before.startswith(FORMULA_STARTS):
            assert after == "'" + before
        else:
            assert after == before  # safe strings are left alone
        assert after is None or not after.startswith(FORMULA_STARTS)
    assert escape_formula(escaped).to_list() == escaped.to_list()  # idempotent
    assert not is_formula_like(escaped).any()


@given(st.sampled_from(FORMULA_STARTS), st.text(max_size=10))
def test_every_formula_prefix_is_escaped(prefix, rest):
    assert escape_formula(pl.Series([prefix + rest])).to_list() == ["'" + prefix + rest]


# --- null cells skipped, results unchanged ------------------------------------------------------------

CELLS = ["13812345678", "138****1234", "", " ", "无", "+1 212 555 0100", "0086 139 0000 1111",
         "1.3812345678E+10", "Ann@Example.com", "a@b", "x***@qq.com", "李雷", "Ann Lee"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(CELLS)), min_size=1, max_size=30))
def test_normalising_only_the_present_cells_changes_no_row(cells: list[str | None]) -> None:
    """normalize_* skip null cells (most customers have no phone or email) and give them what a
    null cell gets: row for row the same frame as normalising every cell."""
    from rfm_cli.core.contacts import _normalize_emails, _normalize_phones

    series = pl.Series("v", cells, dtype=pl.String)
    assert normalize_phones(series, "CN").equals(_normalize_phones(series, "CN"))
    assert normalize_phones(series, "US").equals(_normalize_phones(series, "US"))
    assert normalize_emails(series).equals(_normalize_emails(series))
    floats = pl.Series("v", [None if c is None else 13812345678.0 for c in cells], dtype=pl.Float64)
    assert normalize_phones(floats).equals(_normalize_phones(floats, "CN"))
