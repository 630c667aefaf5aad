-- Poverty and monitoring lines (元/人/年, stored in fen per person per year), by year and province
-- ('' = national). Per-capita income (household income / household size) is compared with them.

-- +goose Up
CREATE TABLE poverty_lines (
    year          integer NOT NULL CHECK (year BETWEEN 2010 AND 2100),
    province_code text NOT NULL CHECK (province_code = '' OR province_code ~ '^[0-9]{2}$'),
    kind          text NOT NULL CHECK (kind IN ('poverty', 'monitoring')),
    amount_fen    bigint NOT NULL CHECK (amount_fen > 0),
    source        text NOT NULL CHECK (btrim(source) <> ''),
    PRIMARY KEY (year, province_code, kind)
);

INSERT INTO poverty_lines (year, province_code, kind, amount_fen, source) VALUES
    (2010, '', 'poverty', 230000,
     '国家统计局: 农村贫困标准 2300 元/人/年 (2010 年不变价), 《中国农村贫困监测报告》'),
    (2020, '', 'poverty', 400000,
     '国家统计局: 现行标准按 2020 年价格约 4000 元/人/年 (2010 年 2300 元不变价标准的当年价)'),
    (2024, '43', 'monitoring', 700000,
     'EXAMPLE ONLY: an illustrative provincial monitoring line (防止返贫监测标准) for 湖南省; replace with the figure the province publishes');

-- +goose Down
DROP TABLE poverty_lines;
