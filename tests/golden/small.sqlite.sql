BEGIN;

CREATE TABLE "accounts" (
  "id" INTEGER NOT NULL PRIMARY KEY,
  "uid" TEXT NOT NULL UNIQUE,
  "name" TEXT NOT NULL,
  "first" TEXT NOT NULL,
  "last" TEXT NOT NULL,
  "email" TEXT NOT NULL UNIQUE,
  "score" INTEGER NOT NULL,
  "ratio" REAL NOT NULL,
  "balance" DECIMAL(5,2) NOT NULL,
  "active" BOOLEAN NOT NULL,
  "token" TEXT NOT NULL,
  "plate" TEXT NOT NULL,
  "opened" DATE NOT NULL,
  "seen_at" TIMESTAMP,
  "tier" TEXT NOT NULL,
  "level" INTEGER NOT NULL
);

CREATE TABLE "events" (
  "id" INTEGER NOT NULL PRIMARY KEY,
  "account_id" INTEGER NOT NULL,
  "owner" TEXT NOT NULL,
  "account" TEXT NOT NULL,
  "kind" TEXT NOT NULL,
  FOREIGN KEY ("account_id") REFERENCES "accounts" ("id"),
  FOREIGN KEY ("account") REFERENCES "accounts" ("uid")
);

INSERT INTO "accounts" ("id", "uid", "name", "first", "last", "email", "score", "ratio", "balance", "active", "token", "plate", "opened", "seen_at", "tier", "level") VALUES
(100, 'b9c20fdb-2172-406d-abcb-2eea478566d3', 'Yohanna Ortiz', 'Katrina', 'Brown', 'yohanna.ortiz1@exemplo.net.br', 11, 0.297, 15.84, 1, 'f3833b6', 'WDZ-6E64#', '2020-12-25', '2024-06-01T06:04:50Z', 'bronze', 1),
(110, '598d463a-0eaa-4dc0-ad37-f56d8026deb8', 'Miguel Ferminiano', 'Jairo', 'Schimmel', 'miguel.ferminiano2@exemplo.net.br', 32, 0.141, -37.75, 1, '6baf8af', 'ZVN-5l87#', '2020-02-24', '2024-06-01T06:33:21Z', 'bronze', 1),
(120, '776b7e1d-2ed0-4a9c-b700-3d1c8cac3944', 'Filipe Sandoval', 'Aida', 'Cassin', 'filipe.sandoval3@mail.exemplo.com.br', -8, 0.162, 8.20, 0, '6ada3af', 'IOX-4e57#', '2020-01-12', '2024-06-01T17:16:24Z', 'silver', 1),
(130, '6a70bd81-6e13-4ef1-8e25-481fe8460833', 'Juliana Casanova', 'Mark', 'Miller', 'juliana.casanova4@example.com', 4, 0.076, -77.61, 0, '641ad3', 'VAU-0I88#', '2020-10-04', '2024-06-01T02:28:32Z', 'silver', 1),
(140, '5616b970-6154-400e-8716-06ff28636f14', 'Roberto Beltrão', 'Maria', 'Cremin', 'roberto.beltrao5@exemplo.org.br', 17, 0.411, -42.29, 0, '8984307f', 'YBM-1s99#', '2020-06-07', '2024-06-01T16:37:17Z', 'bronze', 2),
(150, 'bec9047c-5243-4089-9cb3-d0871851650c', 'José Fontes', 'Kailey', 'Shields', 'jose.fontes6@exemplo.com.br', 32, 0.967, 60.35, 0, '62e45d3', 'CJT-1041#', '2020-08-19', NULL, 'gold', 1);
INSERT INTO "events" ("id", "account_id", "owner", "account", "kind") VALUES
(1, 100, 'Yohanna Ortiz', '5616b970-6154-400e-8716-06ff28636f14', 'logout'),
(2, 100, 'Yohanna Ortiz', 'b9c20fdb-2172-406d-abcb-2eea478566d3', 'logout'),
(3, 100, 'Yohanna Ortiz', '776b7e1d-2ed0-4a9c-b700-3d1c8cac3944', 'login'),
(4, 110, 'Miguel Ferminiano', '598d463a-0eaa-4dc0-ad37-f56d8026deb8', 'purchase'),
(5, 110, 'Miguel Ferminiano', '6a70bd81-6e13-4ef1-8e25-481fe8460833', 'purchase'),
(6, 130, 'Juliana Casanova', '5616b970-6154-400e-8716-06ff28636f14', 'login'),
(7, 130, 'Juliana Casanova', 'b9c20fdb-2172-406d-abcb-2eea478566d3', 'login'),
(8, 130, 'Juliana Casanova', '6a70bd81-6e13-4ef1-8e25-481fe8460833', 'login'),
(9, 140, 'Roberto Beltrão', '6a70bd81-6e13-4ef1-8e25-481fe8460833', 'purchase'),
(10, 150, 'José Fontes', 'b9c20fdb-2172-406d-abcb-2eea478566d3', 'purchase'),
(11, 150, 'José Fontes', '6a70bd81-6e13-4ef1-8e25-481fe8460833', 'logout'),
(12, 150, 'José Fontes', '776b7e1d-2ed0-4a9c-b700-3d1c8cac3944', 'login');

COMMIT;
