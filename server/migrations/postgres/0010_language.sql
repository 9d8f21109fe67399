-- The interface language a user chose ('en', 'zh-CN'); NULL follows the browser.
ALTER TABLE user_settings ADD COLUMN language TEXT;
