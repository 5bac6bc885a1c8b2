CREATE TABLE "customers" (
  "id" bigint NOT NULL PRIMARY KEY,
  "name" text NOT NULL,
  "email" text NOT NULL UNIQUE,
  "phone" text,
  "city" text NOT NULL,
  "state" text NOT NULL,
  "zip" text NOT NULL,
  "loyalty" text NOT NULL,
  "birth_date" date NOT NULL,
  "signed_up" timestamptz NOT NULL,
  "marketing" boolean NOT NULL,
  "age" bigint NOT NULL,
  "segment" text NOT NULL,
  "profile" jsonb NOT NULL,
  "orders" bigint NOT NULL,
  "spent" numeric(18,2) NOT NULL
);
COMMENT ON COLUMN "customers"."phone" IS 'an area code of the customer''s city';
COMMENT ON COLUMN "customers"."birth_date" IS 'customers are adults when they sign up';
COMMENT ON COLUMN "customers"."signed_up" IS 'at 18 or later';
COMMENT ON COLUMN "customers"."spent" IS 'sum of the customer''s order totals';

CREATE TABLE "products" (
  "id" bigint NOT NULL PRIMARY KEY,
  "sku" text NOT NULL UNIQUE,
  "name" text NOT NULL,
  "department" text NOT NULL,
  "price" numeric(6,2) NOT NULL,
  "weight_kg" double precision NOT NULL,
  "in_stock" integer NOT NULL,
  "public_id" uuid NOT NULL UNIQUE
);

CREATE TABLE "orders" (
  "id" bigint NOT NULL PRIMARY KEY,
  "customer_id" bigint NOT NULL,
  "placed_at" timestamptz NOT NULL,
  "status" text NOT NULL,
  "channel" text NOT NULL,
  "coupon" text,
  "ship_street" text NOT NULL,
  "ship_city" text NOT NULL,
  "ship_state" text NOT NULL,
  "ship_zip" text NOT NULL,
  "items" bigint NOT NULL,
  "total" numeric(18,2) NOT NULL,
  FOREIGN KEY ("customer_id") REFERENCES "customers" ("id")
);
COMMENT ON COLUMN "orders"."placed_at" IS 'after the customer signed up';
COMMENT ON COLUMN "orders"."ship_zip" IS 'a postal code of ship_city';
COMMENT ON COLUMN "orders"."total" IS 'equals the sum of its item lines';

CREATE TABLE "order_items" (
  "id" bigint NOT NULL PRIMARY KEY,
  "order_id" bigint NOT NULL,
  "product_id" bigint NOT NULL,
  "quantity" integer NOT NULL,
  "discount" numeric(3,2),
  "unit_price" numeric(6,2) NOT NULL,
  "line_total" numeric(18,2) NOT NULL,
  FOREIGN KEY ("order_id") REFERENCES "orders" ("id"),
  FOREIGN KEY ("product_id") REFERENCES "products" ("id")
);

