"""Demo merchants of the 15-minute life circle around 「邻里未来社区」: about thirty shops and services with
their hours, walking minutes from the gate and coupons (names and phone numbers are made up)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Community
from app.merchants import coupons, directory
from app.merchants.models import Merchant

# (name, kind, keywords, address, walk minutes, opens, closes, rest weekday, coupon title, value yuan, stock)
DEMO_MERCHANTS = (
    ("老张修鞋配钥匙", "修鞋", ("配钥匙", "修伞", "修拉链"),
     "东门外沿街12号", 2, "08:00", "18:00", None, "修鞋减3元", 3, 50),
    ("鞋匠王师傅", "修鞋", ("擦鞋", "钉鞋掌"), "北门菜场入口", 6, "07:30", "17:30", 0, None, 0, 0),
    ("四季鲜果", "水果店", ("水果", "果切"), "东门外沿街8号", 2, "08:00", "22:00", None, "满50减8", 8, 200),
    ("百果园（运河店）", "水果店", ("水果",), "运河路188号", 9, "09:00", "22:30", None, "新人立减5元", 5, 100),
    ("邻家便利店", "便利店", ("超市", "日用品", "小卖部"), "东门内1幢底商", 1, "00:00", "00:00", None, None, 0, 0),
    ("联华超市", "超市", ("买菜", "日用品", "粮油"), "运河路200号", 8, "07:30", "21:30", None, "满100减10", 10, 150),
    ("北门农贸市场", "菜场", ("买菜", "菜市场", "肉", "鱼"), "北门外", 5, "05:30", "18:30", None, None, 0, 0),
    ("好剪艺理发", "理发店", ("理发", "剪头发", "烫发", "老人理发"), "东门外沿街20号", 3, "09:00", "21:00", 1,
     "老人理发10元券", 10, 80),
    ("丝域养发", "理发店", ("理发", "洗头", "养发"), "运河路166号", 10, "10:00", "22:00", None, None, 0, 0),
    ("同仁堂大药房", "药店", ("药房", "买药", "药"), "南门外丽水路5号", 4, "08:00", "22:00", None, "满80减10", 10, 100),
    ("民生24小时药房", "药店", ("药房", "买药", "夜间药店"), "丽水路30号", 8, "00:00", "00:00", None, None, 0, 0),
    ("阿香早餐", "早餐店", ("早饭", "包子", "豆浆", "油条"),
     "北门外3号", 3, "05:30", "10:30", None, "早餐立减2元", 2, 300),
    ("甬城小笼包", "早餐店", ("包子", "小笼包", "早饭"), "东门外沿街15号", 2, "06:00", "13:00", 2, None, 0, 0),
    ("老杭州面馆", "面馆", ("吃面", "片儿川", "拌川"), "运河路150号", 7, "06:30", "20:30", None, "满30减5", 5, 120),
    ("惠民家政", "家政", ("保洁", "钟点工", "保姆", "月嫂"), "社区服务中心一楼", 3, "08:30", "17:30", 6,
     "首次保洁减20元", 20, 50),
    ("师傅到家维修", "家电维修", ("修空调", "修洗衣机", "修冰箱", "家电"), "丽水路18号", 6, "08:00", "19:00", None,
     "上门费减15元", 15, 60),
    ("快修手机", "手机维修", ("修手机", "换屏", "贴膜", "手机"),
     "运河路172号", 9, "09:30", "21:00", None, "贴膜5折券", 10,
     80),
    ("洁净洗衣", "洗衣店", ("干洗", "洗衣", "改衣服"),
     "东门外沿街6号", 2, "08:00", "20:00", None, "干洗8折（抵8元）", 8,
     100),
    ("巧手裁缝", "裁缝", ("改衣服", "缝补", "改裤脚"), "北门菜场内", 5, "08:00", "17:00", 0, None, 0, 0),
    ("邻里快递驿站", "快递", ("菜鸟驿站", "寄快递", "取快递"), "北门外沿街", 4, "08:30", "21:00", None, None, 0, 0),
    ("晨光文具", "文具店", ("文具", "打印", "复印"), "丽水路12号", 6, "07:30", "20:00", None, "打印复印减2元", 2, 100),
    ("小书虫绘本馆", "书店", ("绘本", "书店", "亲子阅读"),
     "运河路120号", 8, "10:00", "20:00", 0, "亲子阅读体验券", 15, 30),
    ("宠爱宠物店", "宠物店", ("宠物", "洗狗", "猫粮", "狗粮"),
     "丽水路40号", 10, "09:00", "20:00", None, "洗澡美容减10元",
     10, 40),
    ("康乐推拿", "推拿", ("按摩", "足疗", "推拿", "理疗"),
     "运河路132号", 7, "10:00", "22:00", None, "60岁以上减20元", 20,
     60),
    ("花间花店", "花店", ("鲜花", "绿植"), "东门外沿街22号", 3, "08:30", "20:30", None, None, 0, 0),
    ("放心肉铺", "肉铺", ("猪肉", "买肉"), "北门农贸市场内", 5, "05:30", "13:00", None, None, 0, 0),
    ("东门烧饼铺", "烧饼", ("烧饼", "葱油饼", "早饭"), "东门外沿街3号", 1, "06:00", "11:00", None, None, 0, 0),
    ("运河眼镜", "眼镜店", ("配眼镜", "验光", "老花镜"),
     "运河路210号", 10, "09:00", "21:00", None, "老花镜减30元", 30, 30),
    ("社区老年食堂", "食堂", ("吃饭", "午饭", "助餐", "老年餐"), "社区服务中心一楼", 3, "10:30", "18:30", None,
     "助餐券", 5, 200),
    ("稻香村糕点", "糕点", ("点心", "蛋糕", "面包"), "丽水路8号", 5, "08:00", "21:00", None, "满40减6", 6, 80),
    ("修车铺老李", "修自行车", ("修电动车", "补胎", "修自行车"), "北门外车棚旁", 4, "07:30", "18:30", None, None, 0, 0),
)


def seed_merchants(session: Session, community: Community) -> None:
    """Demo seed step: the nearby merchants (only the missing ones), their coupons, licences of most verified."""
    have = set(session.scalars(select(Merchant.name).where(Merchant.community_id == community.id)))
    for i, (name, kind, words, address, walk, opens, closes, rest, coupon, value, stock) in enumerate(DEMO_MERCHANTS):
        if name in have:
            continue
        m = directory.add_merchant(session, community.id, name=name, kind=kind, keywords=list(words), address=address,
                                   walk_minutes=walk, opens=opens, closes=closes, rest_weekday=rest,
                                   phone=f"0571-8807{i:04d}")
        if i % 5:
            directory.verify_licence(session, m, f"91330105MA2{i:07d}")
        if coupon:
            coupons.add_coupon(session, m, title=coupon, value_cents=value * 100, stock=stock,
                               per_resident=1 if value >= 10 else 2)
    session.flush()
