"""Facts about the parties of a 数电 invoice (shudian-rules.md section 2)."""

from __future__ import annotations

# A buyer name this short may be a person's: the clerk is asked before it is issued as an organisation's.
SHORT_NAME_PROMPT_LENGTH = 4

# ID types (证件类型代码) a natural-person buyer or a drawer gives with an ID number.
ID_TYPES: dict[str, tuple[str, str]] = {
    "201": ("居民身份证", "resident identity card"),
    "202": ("军官证", "military officer's card"),
    "203": ("武警警官证", "armed police officer's card"),
    "208": ("外国护照", "foreign passport"),
    "210": ("港澳居民来往内地通行证", "mainland travel permit for Hong Kong and Macao residents"),
    "213": ("台湾居民来往大陆通行证", "mainland travel permit for Taiwan residents"),
    "219": ("香港永久性居民身份证", "Hong Kong permanent identity card"),
    "221": ("澳门特别行政区永久性居民身份证", "Macao permanent identity card"),
    "227": ("中国护照", "Chinese passport"),
    "233": ("外国人永久居留身份证", "foreign permanent resident ID card"),
    "237": ("港澳居民居住证", "residence permit for Hong Kong and Macao residents"),
    "238": ("台湾居民居住证", "residence permit for Taiwan residents"),
}
# Type 201 implies nationality 156 (China), which the XML carries.
RESIDENT_ID = "201"
CHINA = "156"
