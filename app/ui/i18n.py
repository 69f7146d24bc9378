"""Chinese first, English on request: `tr("新开发票")` gives the text in the language set at start.

The Chinese text is the key. English comes from TRANSLATIONS, or from the second argument,
so a module can carry its own words without editing this file:

    tr("打印", "Print")

A key with no English falls back to the Chinese, so a missing entry never shows a blank.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

LANGUAGES = ("zh", "en")
_language = "zh"

TRANSLATIONS: dict[str, str] = {
    # application and main window
    "发票离线开票台": "Fapiao Desk",
    "文件": "File",
    "发票": "Invoices",
    "视图": "View",
    "工具": "Tools",
    "帮助": "Help",
    "新开发票": "New invoice",
    "查看发票": "View invoice",
    "刷新": "Refresh",
    "销售方设置": "Seller profile",
    "退出": "Quit",
    "关于": "About",
    "状态": "Status",
    "全部": "All",
    "号码": "Number",
    "开票日期": "Date",
    "购买方": "Buyer",
    "价税合计": "Total with tax",
    "种类": "Kind",
    "共 {count} 张发票": "{count} invoices",
    "已开具发票 {number}": "Invoice {number} issued",
    "正在加载…": "Loading…",
    "数据目录：{path}": "Store: {path}",
    # seller dialog
    "销售方信息": "Seller profile",
    "首次使用，请填写销售方（本单位）信息和开票人。":
        "First start: enter the seller (your business) and the clerk who issues.",
    "名称": "Name",
    "纳税人识别号": "Taxpayer id",
    "地址": "Address",
    "电话": "Phone",
    "开户行": "Bank",
    "账号": "Account",
    "开票人": "Drawer",
    "收款人": "Payee",
    "复核": "Reviewer",
    "保存": "Save",
    "取消": "Cancel",
    "我已核实此纳税人识别号": "I have verified this taxpayer id",
    "校验位不符，但我已核实此纳税人识别号无误": "The check character fails, but I have verified this taxpayer id",
    "无法保存": "Cannot save",
    # invoice form
    "发票种类": "Kind",
    "增值税普通发票": "VAT ordinary invoice",
    "增值税专用发票": "VAT special invoice",
    "单价含税": "Prices include tax",
    "购买方信息": "Buyer",
    "商品明细": "Lines",
    "货物或应税劳务、服务名称": "Item",
    "规格型号": "Spec",
    "单位": "Unit",
    "数量": "Quantity",
    "单价": "Unit price",
    "单价(含税)": "Price incl. tax",
    "金额": "Amount",
    "税率": "Rate",
    "税额": "Tax",
    "添加行": "Add line",
    "删除行": "Remove line",
    "合计金额": "Total amount",
    "合计税额": "Total tax",
    "价税合计（大写）": "Total in capitals",
    "价税合计（小写）": "Total with tax",
    "备注": "Remarks",
    "开具": "Issue",
    "关闭": "Close",
    "请检查以下项目：": "Please check:",
    "可以开具。": "Ready to issue.",
    "放弃未开具的发票？": "Discard the invoice not yet issued?",
    "这张发票还没有开具，关闭后填写的内容将丢失。": "This invoice has not been issued; what you typed will be lost.",
    "开具失败": "Issuing failed",
    "销售方": "Seller",
    "明细": "Lines",
    "合计": "Totals",
    "离线开具": "issued offline",
    "正式号码": "Official number",
    "临时号码": "Provisional number",
    "上传队列": "Upload queue",
    "已核实的纳税人识别号": "Confirmed taxpayer ids",
    "原发票号码": "Original invoice",
    "发票详情": "Invoice",
    # 数电 lines and the catalogs
    "项目名称": "Item name",
    "税收分类编码": "Tax code",
    "税率/征收率": "Rate",
    "优惠政策": "Policy",
    "(含税)": " incl. tax",
    "是": "yes",
    "简称": "Short name",
    "证件类型": "ID type",
    "证件号码": "ID number",
    "电子邮箱": "E-mail",
}


def set_language(lang: str) -> None:
    """Set once at start, before any window is built."""
    global _language
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    _language = lang


_qt_translators: list[QTranslator] = []  # kept alive while installed


def install_qt_translations(app: QCoreApplication) -> bool:
    """Qt's own words (确定/取消 on standard buttons, the file dialog, a line edit's menu) in the desk's
    language: Qt's shipped qtbase translation for Chinese, none for English. True when one is installed."""
    for old in _qt_translators:
        app.removeTranslator(old)
    _qt_translators.clear()
    if _language != "zh":
        return False
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_", folder):
        return False
    app.installTranslator(translator)
    _qt_translators.append(translator)
    return True


def language() -> str:
    return _language


def tr(zh: str, en: str | None = None, **values: object) -> str:
    """The text in the current language; {name} placeholders are filled from values."""
    text = zh if _language == "zh" else (en or TRANSLATIONS.get(zh, zh))
    return text.format(**values) if values else text
