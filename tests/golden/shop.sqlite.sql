CREATE TABLE "customers" (
  "id" INTEGER NOT NULL PRIMARY KEY,
  "name" TEXT NOT NULL,
  "email" TEXT NOT NULL UNIQUE,
  "phone" TEXT, -- an area code of the customer's city
  "city" TEXT NOT NULL,
  "state" TEXT NOT NULL,
  "zip" TEXT NOT NULL,
  "loyalty" TEXT NOT NULL,
  "birth_date" DATE NOT NULL, -- customers are adults when they sign up
  "signed_up" TIMESTAMP NOT NULL, -- at 18 or later
  "marketing" BOOLEAN NOT NULL,
  "age" INTEGER NOT NULL,
  "segment" TEXT NOT NULL,
  "profile" JSON NOT NULL,
  "orders" INTEGER NOT NULL,
  "spent" DECIMAL(18,2) NOT NULL -- sum of the customer's order totals
);

CREATE TABLE "products" (
  "id" INTEGER NOT NULL PRIMARY KEY,
  "sku" TEXT NOT NULL UNIQUE,
  "name" TEXT NOT NULL,
  "department" TEXT NOT NULL,
  "price" DECIMAL(6,2) NOT NULL,
  "weight_kg" REAL NOT NULL,
  "in_stock" INTEGER NOT NULL,
  "public_id" TEXT NOT NULL UNIQUE
);

CREATE TABLE "orders" (
  "id" INTEGER NOT NULL PRIMARY KEY,
  "customer_id" INTEGER NOT NULL,
  "placed_at" TIMESTAMP NOT NULL, -- after the customer signed up
  "status" TEXT NOT NULL,
  "channel" TEXT NOT NULL,
  "coupon" TEXT,
  "ship_street" TEXT NOT NULL,
  "ship_city" TEXT NOT NULL,
  "ship_state" TEXT NOT NULL,
  "ship_zip" TEXT NOT NULL, -- a postal code of ship_city
  "items" INTEGER NOT NULL,
  "total" DECIMAL(18,2) NOT NULL, -- equals the sum of its item lines
  FOREIGN KEY ("customer_id") REFERENCES "customers" ("id")
);

CREATE TABLE "order_items" (
  "id" INTEGER NOT NULL PRIMARY KEY,
  "order_id" INTEGER NOT NULL,
  "product_id" INTEGER NOT NULL,
  "quantity" INTEGER NOT NULL,
  "discount" DECIMAL(3,2),
  "unit_price" DECIMAL(6,2) NOT NULL,
  "line_total" DECIMAL(18,2) NOT NULL,
  FOREIGN KEY ("order_id") REFERENCES "orders" ("id"),
  FOREIGN KEY ("product_id") REFERENCES "products" ("id")
);

