"""A second county set up as its clerk would: `carestats init`, the profile files rewritten for 元阳县 (other
townships, one of them nesting another's name, a transport bureau with its own table, units the bundled
catalogue never uses — 辆, 亩, 床 — and its own rules, titles, template and letter spec), blank forms from
`carestats form` filled in with openpyxl as a clerk types figures, then ingest, check, figures, report and
`check --letter`. Nothing here may need a code change for the new county, and nothing of 绿春县 may leak."""

from __future__ import annotations

import json
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.clirun import invoke

PROFILE_TOML = """\
county = "元阳县"
title = "元阳县“一老一小”关爱服务年度统计"
year = 2025

[[tables]]
id = "表一"
name = "乡镇“一老一小”关爱服务情况统计表"
filer = "乡镇"
about = "filer"
sections = [
  { title = "一、老年人关爱服务", first = "L01" },
  { title = "二、儿童关爱保护", first = "L07" },
]

[[tables]]
id = "表二"
name = "老年人健康管理情况表"
filer = "县卫生健康局"
about = "乡镇"

[[tables]]
id = "表三"
name = "县民政局本级工作情况表"
filer = "县民政局"
about = "filer"

[[tables]]
id = "表四"
name = "留守儿童关爱帮扶情况表"
filer = "县妇联"
about = "filer"

[[tables]]
id = "表五"
name = "助老出行和农村养老用地情况表"
filer = "县交通运输局"
about = "filer"

[[rates]]
code = "M03"
numerator = "M02"
denominator = "M01"

[[rates]]
code = "T05"
numerator = "T04"
denominator = "T01"
"""

UNITS_CSV = """\
单位名称,类别,报送表,其他写法
南沙镇,乡镇,表一,南沙
新街镇,乡镇,表一,新街
小新街乡,乡镇,表一,小新街
牛角寨镇,乡镇,表一,牛角寨|牛角寨乡
大兴街道,乡镇,表一,大兴街道办事处
县民政局,部门,表三,元阳县民政局|民政局
县卫生健康局,部门,表二,县卫健局|卫健局
县妇联,部门,表四,元阳县妇联|妇联
县交通运输局,部门,表五,元阳县交通运输局|交通运输局
"""

INDICATORS_CSV = """\
指标代码,表号,指标名称,计量单位,类型,小数位,所属指标,其他写法
L01,表一,留守老人数,人,count,0,,留守老年人数
L02,表一,留守老人中纳入最低生活保障人数,人,count,0,L01,其中:纳入最低生活保障
L03,表一,纳入最低生活保障的老年人数,人,count,0,,低保老年人数
L04,表一,发放高龄津贴金额,元,money,2,,高龄津贴
L05,表一,养老床位,张,count,0,,养老床位数
L06,表一,老年助餐点,个,count,0,,助餐点
L07,表一,留守儿童数,人,count,0,,留守儿童
L08,表一,留守儿童中纳入最低生活保障人数,人,count,0,L07,其中:纳入最低生活保障
L09,表一,儿童之家,个,count,0,,儿童之家数
M01,表二,65周岁以上老年人数,人,count,0,,老年人数
M02,表二,65周岁以上老年人健康管理人数,人,count,0,,健康管理人数
M03,表二,老年人健康管理率,%,rate,2,,健康管理率
N01,表三,召开“一老一小”工作会议,次,count,0,,工作会议
N02,表三,争取福彩公益金,元,money,2,,福彩公益金
N03,表三,中心敬老院护理型床位,床,count,0,,护理型床位
F01,表四,爱心妈妈,名,count,0,,爱心妈妈人数
F02,表四,结对关爱留守儿童,人,count,0,,结对关爱
F03,表四,社会各界捐赠,元,money,2,,捐赠
T01,表五,助老爱心车辆,辆,count,0,,爱心车辆
T02,表五,农村养老服务设施用地,亩,count,1,,养老设施用地
T03,表五,助老车辆运营补贴,元,money,2,,运营补贴
T04,表五,完好助老车辆,辆,count,0,,完好车辆
T05,表五,助老车辆完好率,%,rate,2,,车辆完好率
"""

RULES_TOML = """\
[[rule]]
id = "S01"
label = "数值可读"
description = "无数据的填0,不得留空;不得填写估计数。"
severity = "error"
scope = "unit"
kind = "readable"
hint = "请填写准确数值(无数据填 0)。"

[[rule]]
id = "Y01"
label = "留守老人低保人数不大于留守老人数"
description = "L02 不大于 L01。"
severity = "error"
scope = "unit"
expr = "L02 <= L01"
hint = "L02 是 L01 的一部分,请核对这两个数。"

[[rule]]
id = "Y03"
label = "健康管理率与人数一致"
description = "M03 = M02 ÷ M01 × 100,两位小数。"
severity = "error"
scope = "unit"
kind = "rate"
code = "M03"
hint = "请按 M02 ÷ M01 × 100 四舍五入保留两位小数重新填写。"

[[rule]]
id = "Y04"
label = "车辆完好率与车辆数一致"
description = "T05 = T04 ÷ T01 × 100,两位小数。"
severity = "error"
scope = "unit"
kind = "rate"
code = "T05"
hint = "请按 T04 ÷ T01 × 100 四舍五入保留两位小数重新填写。"

[[rule]]
id = "Y06"
label = "数值类型"
description = "非负,小数位不超过指标目录的规定。"
severity = "error"
scope = "unit"
kind = "type"
of = ["count", "money", "rate"]
hint = "按指标目录的小数位填写,不得为负数。"

[[rule]]
id = "Y08"
label = "结对关爱人数不少于留守儿童数"
description = "表间审核:全县 F02 不小于各乡镇 L07 之和。"
severity = "error"
scope = "between"
expr = "F02 >= L07"
hint = "请县妇联与各乡镇核对。"

[[rule]]
id = "Y09"
label = "各单位均已报表"
description = "各乡镇报送表一,各部门报送本部门的表。"
severity = "error"
scope = "unit"
kind = "completeness"
hint = "请催报。"

[[rule]]
id = "Y10"
label = "应报指标齐全"
description = "已报送的表中每个指标都要有数。"
severity = "error"
scope = "unit"
kind = "missing"
hint = "请补齐缺少的指标行,无数据的填 0。"
"""

TEMPLATE = """\
@文号 {{ spec.doc_number }}

# {{ spec.sender }}关于{{ spec.proposal.session }}第{{ spec.proposal.number }}号提案的答复函

@主送 {{ spec.member.salutation }}：

您在{{ spec.proposal.session_short }}提出的《{{ spec.proposal.title }}》的第{{ spec.proposal.number }}号提案，
已转交我局研究办理，现将办理情况答复如下：

## 一、兜底保障持续加强

### （一）老年人保障。{{ year }}年，{{ county }}共有留守老人{{ fig.L01 | 人 }}，其中纳入最低生活保障的{{ fig.L02 | 人 }}；
纳入最低生活保障的老年人有{{ fig.L03 | 人 }}，发放高龄津贴{{ fig.L04 | 万元 }}。

### （二）儿童关爱。全县留守儿童{{ fig.L07 | 人 }}，其中南沙镇留守儿童{{ units.南沙镇.L07 | 人 }}，
小新街乡留守儿童{{ units.小新街乡.L07 | 人 }}。
县妇联发动{{ fig.F01 | 名 }}“爱心妈妈”结对关爱留守儿童{{ fig.F02 | 人 }}，社会各界捐赠{{ fig.F03 | 元 }}。

## 二、健康管理

65周岁以上老年人{{ fig.M01 | 人 }}，健康管理人数{{ fig.M02 | 人 }}，健康管理率{{ fig.M03 | 百分比 }}。

@落款 {{ spec.sender }}
@日期 {{ spec.date | 日期 }}
"""

# The county's own unit words as filters (辆, 亩, 床), and a count with one decimal (36.5亩).
UNITS_TEMPLATE = """\
@文号 {{ spec.doc_number }}

# {{ spec.sender }}关于助老出行的答复函

@主送 {{ spec.member.salutation }}：

县交通运输局配备助老爱心车辆{{ fig.T01 | 辆 }}，车辆完好率{{ fig.T05 | 百分比 }}，
发放助老车辆运营补贴{{ fig.T03 | 万元 }}；落实农村养老服务设施用地{{ fig.T02 | 亩 }}；
中心敬老院护理型床位{{ fig.N03 | 床 }}。

@落款 {{ spec.sender }}
@日期 {{ spec.date | 日期 }}
"""

SPEC = """\
year = 2025
template = "{template}"
index_no = "yyxmzj/2026-00012"
publisher = "元阳县民政局"
doc_number = "元民函〔2025〕{number}号"
publish_date = 2025-12-20
validity = "有效"
result_class = "B"
sender = "元阳县民政局"
date = 2025-12-20

[member]
name = "王某某"
salutation = "尊敬的王某某委员"

[proposal]
session = "政协元阳县第十届委员会第五次会议"
session_short = "县政协十届五次会议"
number = "{number}"
title = "关于加强元阳县农村“一老一小”关爱服务的建议"
"""

# What each unit types into its form (表一 in the order of the catalogue; 表二 M01, M02; the rest by code).
TABLE1 = {
    "南沙镇": [812, 95, 1203, 356800, 120, 6, 1534, 88, 5],
    "新街镇": [1045, 130, 1580, 498600.5, 150, 8, 2011, 102, 7],
    "小新街乡": [433, 51, 690, 201300, 60, 3, 802, 40, 3],
    "牛角寨镇": [920, 118, 1377, 412000, 90, 5, 1720, 95, 6],
    "大兴街道": [288, 22, 405, 150250.25, 200, 4, 610, 18, 4],
}
TABLE2 = {
    "南沙镇": (5210, 4630),
    "新街镇": (6120, 5480),
    "小新街乡": (2890, 2400),
    "牛角寨镇": (4760, 4300),
    "大兴街道": (1980, 1850),
}
OWN = {
    "N01": 4,
    "N02": 1865000,
    "N03": 86,
    "F01": 210,
    "F02": 6700,
    "F03": 153600,
    "T01": 24,
    "T02": 36.5,
    "T03": 480000,
    "T04": 22,
}


def rate(numerator: int, denominator: int) -> float:
    """The rate as the clerk types it: the ratio × 100 rounded half-up to two places."""
    exact = Decimal(numerator) * 100 / Decimal(denominator)
    return float(exact.quantize(Decimal("0.01"), ROUND_HALF_UP))


def write_profile(root: Path) -> Path:
    """`carestats init`, then the documented profile files rewritten for 元阳县."""
    r = invoke("init", root)
    assert r.exit_code == 0, r.output
    (root / "profile.toml").write_text(PROFILE_TOML, encoding="utf-8")
    (root / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    (root / "indicators.csv").write_text(INDICATORS_CSV, encoding="utf-8")
    (root / "rules.toml").write_text(RULES_TOML, encoding="utf-8")
    form = (root / "form.toml").read_text(encoding="utf-8")
    form = form.replace(
        '"表一" = "{county}{unit}{year}年“一老一小”关爱服务情况统计表"',
        '"表一" = "{county}{unit}{year}年乡镇关爱服务统计表"',
    )
    (root / "form.toml").write_text(form.split("rules = [")[0] + 'rules = ["L02 不大于 L01。"]\n', "utf-8")
    (root / "templates" / "yuanyang-reply.j2").write_text(TEMPLATE, encoding="utf-8")
    (root / "templates" / "yuanyang-units.j2").write_text(UNITS_TEMPLATE, encoding="utf-8")
    letters = root / "letters"
    letters.mkdir(exist_ok=True)
    (letters / "2025-12.toml").write_text(
        SPEC.format(template="yuanyang-reply.j2", number=12), encoding="utf-8"
    )
    (letters / "2025-13.toml").write_text(
        SPEC.format(template="yuanyang-units.j2", number=13), encoding="utf-8"
    )
    return root


def fill(form: Path, target: Path) -> Path:
    """Type the unit's figures into the value cells of a blank form, as a clerk would, and save it."""
    wb = openpyxl.load_workbook(form)
    ws = wb["统计表"]
    table = ws["A1"].value
    if table == "表一":
        unit = ws["A3"].value.split(":")[1]
        values = iter(TABLE1[unit])
        for row in range(5, ws.max_row + 1):
            if str(ws.cell(row, 2).value or "").startswith("L"):
                ws.cell(row, 5).value = next(values)
    elif table == "表二":
        for row in range(5, 10):
            a, b = TABLE2[ws.cell(row, 2).value]
            ws.cell(row, 3).value, ws.cell(row, 5).value, ws.cell(row, 7).value = a, b, rate(b, a)
    else:
        own = {**OWN, "T05": rate(OWN["T04"], OWN["T01"])}
        for row in range(5, ws.max_row + 1):
            code = ws.cell(row, 2).value
            if code in own:
                ws.cell(row, 5).value = own[code]
    path = target / form.name
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> dict[str, Path]:
    """The profile, the blank forms, the filled returns and a store holding them."""
    root = tmp_path_factory.mktemp("yuanyang")
    profile = write_profile(root / "元阳配置")
    forms, returns = root / "下发报表", root / "报表"
    returns.mkdir()
    r = invoke("form", "--profile", profile, "--year", 2025, "--all", "-o", forms)
    assert r.exit_code == 0, r.output
    for form in sorted(forms.glob("*.xlsx")):
        fill(form, returns)
    db = root / "元阳.db"
    r = invoke("ingest", "--profile", profile, "--db", db, returns)
    assert r.exit_code == 0, r.output
    return {"root": root, "profile": profile, "forms": forms, "returns": returns, "db": db}


def letter_figures(county: dict[str, Path], letter: Path) -> tuple[int, list[dict]]:
    r = invoke(
        "check", "--profile", county["profile"], "--db", county["db"], "--letter", letter, "--format", "json"
    )
    return r.exit_code, json.loads(r.stdout)["letter"]["figures"]


# ------------------------------------------------------------------------------------------ the tests
def test_the_county_is_ingested_checked_and_summed(county):
    r = invoke("check", "--profile", county["profile"], "--db", county["db"])
    assert r.exit_code == 0, r.output
    r = invoke("figures", "--profile", county["profile"], "--db", county["db"], "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["county"] == "元阳县"
    assert data["totals"]["L07"] == 6677 and data["totals"]["L04"] == "1618950.75"
    assert data["totals"]["M03"] == "89.03" and data["totals"]["T05"] == "91.67"
    assert data["totals"]["T02"] == "36.5" and data["totals"]["N03"] == 86
    assert data["units"]["小新街乡"]["L07"] == 802 and data["units"]["新街镇"]["L07"] == 2011


def test_an_unedited_letter_checks_clean_where_its_words_fit_another_indicator(county, tmp_path):
    # “发动210名“爱心妈妈”结对关爱留守儿童6700人”: the words after 210名 are F02's whole name, and
    # “65周岁以上老年人20960人” fits M02's longer name too; the template put F01 and M01 there, and the
    # letter says exactly what the template says: the place has not slipped, the words prove nothing
    for suffix in (".docx", ".txt"):
        letter = tmp_path / f"答复函{suffix}"
        spec = county["profile"] / "letters" / "2025-12.toml"
        r = invoke("report", "--profile", county["profile"], "--db", county["db"], spec, "-o", letter)
        assert r.exit_code == 0, r.output
        code, figures = letter_figures(county, letter)
        assert code == 0, [f for f in figures if f["status"] != "ok"]
        assert {(f["status"], f["how"]) for f in figures} == {("ok", "aligned")}
        assert [f["code"] for f in figures if f["letter_text"] in ("210名", "20960人")] == ["F01", "M01"]
    text = letter.read_text(encoding="utf-8-sig").replace("留守老人3498人", "留守老人3489人")
    edited = tmp_path / "改过.txt"
    edited.write_text(text, encoding="utf-8")
    code, figures = letter_figures(county, edited)
    assert code == 1
    assert [(f["letter_text"], f["code"], f["expected"]) for f in figures if f["status"] != "ok"] == [
        ("3489人", "L01", "3498人")
    ]


def test_the_countys_own_unit_words_are_letter_filters_and_a_count_keeps_its_decimals(county, tmp_path):
    # 辆, 亩 and 床 are 计量单位 of the county's catalogue: `| 辆` must write “24辆” as `| 个` writes “26个”,
    # and T02 (亩, one decimal in indicators.csv) is written as it is, 36.5亩, never refused as “not whole”
    spec = county["profile"] / "letters" / "2025-13.toml"
    letter = tmp_path / "答复函.txt"
    r = invoke("report", "--profile", county["profile"], "--db", county["db"], spec, "-o", letter)
    assert r.exit_code == 0, r.output
    text = letter.read_text(encoding="utf-8-sig")
    assert "助老爱心车辆24辆，车辆完好率91.67%" in text
    assert "设施用地36.5亩；中心敬老院护理型床位86床。" in text
    code, figures = letter_figures(county, letter)
    assert code == 0
    assert [(f["letter_text"], f["code"], f["status"]) for f in figures] == [
        ("24辆", "T01", "ok"),
        ("91.67%", "T05", "ok"),
        ("48万元", "T03", "ok"),
        ("36.5亩", "T02", "ok"),
        ("86床", "N03", "ok"),
    ]
    edited = tmp_path / "改过.txt"
    edited.write_text(text.replace("36.5亩", "38.5亩").replace("86床", "88床"), encoding="utf-8")
    code, figures = letter_figures(county, edited)
    assert code == 1
    assert [(f["letter_text"], f["expected"]) for f in figures if f["status"] == "wrong"] == [
        ("38.5亩", "36.5亩"),
        ("88床", "86床"),
    ]


def test_a_count_with_decimals_in_the_catalogue_is_written_with_them(county, tmp_path):
    # `| 数` on T02 (one decimal in indicators.csv) writes 36.5, as the returns give it
    (county["profile"] / "templates" / "area.j2").write_text(
        "@文号 {{ spec.doc_number }}\n\n落实用地{{ fig.T02 | 数 }}亩，车辆{{ fig.T01 | 数 }}辆。\n",
        encoding="utf-8",
    )
    spec = tmp_path / "area.toml"
    spec.write_text(SPEC.format(template="area.j2", number=14), encoding="utf-8")
    r = invoke("report", "--profile", county["profile"], "--db", county["db"], spec)
    assert r.exit_code == 0, r.output
    assert "落实用地36.5亩，车辆24辆。" in r.stdout


def test_a_form_takes_and_shows_the_decimals_the_catalogue_gives(county):
    # T02 (亩, one decimal): Excel's input check must let the clerk type 36.5, and the cell must show 36.5,
    # not 37; the counts of vehicles stay whole numbers
    form = next(county["forms"].glob("*助老出行*"))
    ws = openpyxl.load_workbook(form)["统计表"]
    rows = {ws.cell(r, 2).value: r for r in range(5, ws.max_row + 1)}
    checks = {str(c): dv for dv in ws.data_validations.dataValidation for c in dv.sqref}
    area, cars, rate_cell = (f"E{rows[c]}" for c in ("T02", "T01", "T05"))
    assert checks[area].type == "decimal" and "至多一位小数" in checks[area].prompt
    assert ws[area].number_format == "#,##0.0"
    assert checks[cars].type == "whole" and ws[cars].number_format == "#,##0"
    assert "保留两位小数" in checks[rate_cell].prompt and ws[rate_cell].number_format == "0.00"
    filled = openpyxl.load_workbook(county["returns"] / form.name)["统计表"]
    assert filled[area].value == 36.5


def test_a_figure_typed_with_the_countys_own_unit_word_is_read(county, tmp_path):
    # “26个” is read as 26 for a count of 个; “24辆” and “36.5亩” must be read alike for the county's own units,
    # and “22个” for a count of 辆 is a unit mismatch, never a figure
    returns = tmp_path / "报表"
    returns.mkdir()
    form = next(county["returns"].glob("*助老出行*"))
    wb = openpyxl.load_workbook(form)
    ws = wb["统计表"]
    rows = {ws.cell(r, 2).value: r for r in range(5, ws.max_row + 1)}
    ws[f"E{rows['T01']}"], ws[f"E{rows['T02']}"] = "24辆", "36.5 亩"
    wb.save(returns / form.name)
    db = tmp_path / "c.db"
    r = invoke("ingest", "--profile", county["profile"], "--db", db, returns)
    assert r.exit_code == 0, r.output
    r = invoke("figures", "--profile", county["profile"], "--db", db, "--format", "json")
    totals = json.loads(r.stdout)["totals"]
    assert (totals["T01"], totals["T02"]) == (24, "36.5")
    ws[f"E{rows['T04']}"] = "22个"
    wb.save(returns / form.name)
    r = invoke("ingest", "--profile", county["profile"], "--db", db, "--replace", returns)
    assert (
        r.exit_code == 1 and "“22个”的计量单位为“个”,而指标 T04 完好助老车辆 的计量单位是“辆”" in r.output
    ), r.output


def test_a_label_with_the_countys_own_unit_in_brackets_names_its_indicator(county, tmp_path):
    # “留守老人数(人)” is 留守老人数: “助老爱心车辆(辆)” and “农村养老服务设施用地(亩)” must be read alike
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["元阳县2025年助老出行和农村养老用地情况表"])
    ws.append(["填报单位:县交通运输局"])
    ws.append(["序号", "指标名称", "2025年"])
    rows = [
        ("助老爱心车辆(辆)", 24),
        ("农村养老服务设施用地(亩)", 36.5),
        ("助老车辆运营补贴(元)", 480000),
        ("完好助老车辆(辆)", 22),
        ("助老车辆完好率(%)", 91.67),
    ]
    for n, (label, value) in enumerate(rows, start=1):
        ws.append([n, label, value])
    path = tmp_path / "县交通运输局2025年报表.xlsx"
    wb.save(path)
    db = tmp_path / "c.db"
    r = invoke("ingest", "--profile", county["profile"], "--db", db, path)
    assert r.exit_code == 0, r.output
    r = invoke("figures", "--profile", county["profile"], "--db", db, "--format", "json")
    assert json.loads(r.stdout)["units"]["县交通运输局"] == {
        "T01": 24,
        "T02": "36.5",
        "T03": "480000.00",
        "T04": 22,
        "T05": "91.67",
    }


def test_a_one_township_a_row_form_with_the_countys_own_unit_is_generated_and_read(county, tmp_path):
    # 表二's columns are headed “M04 家庭病床(床)” by `carestats form`, which reads every form back before
    # handing it out: a unit the bundled catalogue never uses must not make its own form unreadable
    profile = tmp_path / "元阳配置"
    shutil.copytree(county["profile"], profile)
    with (profile / "indicators.csv").open("a", encoding="utf-8") as fh:
        fh.write("M04,表二,家庭病床,床,count,0,,\n")
    r = invoke("form", "--profile", profile, "--year", 2026, "--table", "表二", "-o", tmp_path / "表")
    assert r.exit_code == 0, r.output
    form = next((tmp_path / "表").glob("*.xlsx"))
    ws = openpyxl.load_workbook(form)["统计表"]
    assert "M04 家庭病床(床)" in [c.value for c in ws[4]]


def _split_in_worker(profile: object) -> tuple[str, str | None]:
    from carestats.text import split_unit

    return split_unit("助老爱心车辆(辆)")


def test_a_worker_that_starts_a_new_python_knows_the_countys_unit_words(county):
    # a big batch is read by workers; on Windows each starts a new Python and receives the profile pickled
    from multiprocessing import get_context

    from carestats.profile import Profile

    profile = Profile.load(county["profile"])
    with get_context("spawn").Pool(1) as pool:
        assert pool.apply(_split_in_worker, (profile,)) == ("助老爱心车辆", "辆")


def test_init_gives_the_clerk_an_example_letter_spec_to_edit(tmp_path):
    # the docs send the clerk to data/examples/letters/2025-57.toml, which an installed carestats keeps
    # inside the package: `init` puts an example beside the templates, in the profile's letters/ folder
    target = tmp_path / "新县配置"
    r = invoke("init", target)
    assert r.exit_code == 0, r.output
    assert "letters" in r.output
    example = target / "letters" / "2025-57.toml"
    assert example.is_file()
    from carestats.letter import load_spec

    spec = load_spec(example)
    assert (target / "templates" / spec.template).is_file()


def test_messages_give_examples_from_the_countys_own_profile(county, tmp_path):
    # a 元阳县 clerk is never told to write “--unit 大兴镇” or a 文号 like “绿民函〔2025〕83号”
    r = invoke("form", "--profile", county["profile"], "--year", 2026, "-o", tmp_path / "表")
    assert r.exit_code == 2 and "--unit 南沙镇" in r.output and "大兴镇" not in r.output, r.output
    spec = tmp_path / "bad.toml"
    spec.write_text(
        SPEC.format(template="yuanyang-reply.j2", number=12).replace(
            "元民函〔2025〕12号", "元民函2025年12号"
        ),
        encoding="utf-8",
    )
    r = invoke("report", "--profile", county["profile"], "--db", county["db"], spec)
    assert r.exit_code == 2 and "doc_number" in r.output, r.output
    assert "元民函〔2025〕12号" in r.output and "绿民函" not in r.output, r.output


def test_history_takes_the_profile_option_as_every_command_does_and_its_unit_spellings(county):
    # the README: --profile comes after the command name; a clerk's script passes it to every command. With
    # it, --unit may be any spelling units.csv gives (南沙 for 南沙镇), as every other command reads names
    r = invoke(
        "history", "--profile", county["profile"], "--db", county["db"], "--unit", "南沙", "--format", "json"
    )
    assert r.exit_code == 0, r.output
    entries = json.loads(r.stdout)["submissions"]
    assert [e["filer"] for e in entries] == ["南沙镇"]
    r = invoke("history", "--profile", county["profile"], "--db", county["db"], "--unit", "大兴")
    assert r.exit_code == 2 and "没有“大兴”报送的报表" in r.output, r.output


def words_only_letter(county: dict[str, Path], tmp_path: Path, text: str) -> tuple[int, list[dict]]:
    """``text`` as a letter whose 文号 no spec carries: every figure is tied by its words alone."""
    letter = tmp_path / "无文号答复函.txt"
    letter.write_text(text.replace("元民函〔2025〕12号", "元民函〔2025〕99号"), encoding="utf-8")
    code, figures = letter_figures(county, letter)
    assert {f["how"] for f in figures if f["code"]} <= {"words"}
    return code, figures


@pytest.mark.parametrize(
    "sentence, code",
    [
        # “65周岁以上老年人数” less its generic tail 人数 must not lose 年人 to M02's longer name
        ("65周岁以上老年人20960人", "M01"),
        ("65周岁以上老年人数20960人", "M01"),
        ("65周岁以上老年人健康管理人数18660人", "M02"),
        ("健康管理人数18660人", "M02"),
    ],
)
def test_by_words_a_name_less_its_generic_tail_keeps_the_words_written(county, tmp_path, sentence, code):
    _exit, figures = words_only_letter(county, tmp_path, sentence + "。")
    [f] = figures
    assert (f["code"], f["status"]) == (code, "ok"), f


@pytest.mark.parametrize(
    "sentence, code",
    [
        # the words after 210名 run into 6700人, and right before it stand F02's whole name: they are
        # 6700's; “爱心妈妈” is what 210 counts
        ("县妇联发动210名“爱心妈妈”结对关爱留守儿童6700人", "F01"),
        ("县妇联发动210名爱心妈妈结对关爱留守儿童6700人", "F01"),
        ("爱心妈妈210名,结对关爱留守儿童6700人", "F01"),
    ],
)
def test_by_words_the_next_figure_s_whole_name_before_it_is_its_own(county, tmp_path, sentence, code):
    _exit, figures = words_only_letter(county, tmp_path, sentence + "。")
    assert [(f["letter_text"], f["code"], f["status"]) for f in figures] == [
        ("210名", code, "ok"),
        ("6700人", "F02", "ok"),
    ]


def test_an_unedited_letter_checks_clean_by_words_alone(county, tmp_path):
    # the 文号 changed, so no spec is found: every figure is tied by its words, and the template's own
    # wording (“发动210名“爱心妈妈”结对关爱留守儿童6700人”, “65周岁以上老年人20960人”) ties as the template does
    spec = county["profile"] / "letters" / "2025-12.toml"
    letter = tmp_path / "答复函.txt"
    r = invoke("report", "--profile", county["profile"], "--db", county["db"], spec, "-o", letter)
    assert r.exit_code == 0, r.output
    text = letter.read_text(encoding="utf-8-sig")
    exit_code, figures = words_only_letter(county, tmp_path, text)
    assert exit_code == 0, [f for f in figures if f["status"] != "ok"]
    assert [f["code"] for f in figures] == ("L01 L02 L03 L04 L07 L07 L07 F01 F02 F03 M01 M02 M03".split())
    assert {f["status"] for f in figures} == {"ok"}
    # and a retyped figure is an error at its own indicator, with what it should read
    edited = text.replace("发动210名", "发动201名").replace("老年人20960人", "老年人20690人")
    exit_code, figures = words_only_letter(county, tmp_path, edited)
    assert exit_code == 1
    assert [(f["letter_text"], f["code"], f["expected"]) for f in figures if f["status"] != "ok"] == [
        ("201名", "F01", "210名"),
        ("20690人", "M01", "20960人"),
    ]
