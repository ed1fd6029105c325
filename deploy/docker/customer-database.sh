#!/bin/bash
# mariadb image, first start: the customer's database (the syncer's target) with the tables of
# docs/sync/mysql.sql, for the account MARIADB_USER. Sourced by docker-entrypoint.sh (docker_process_sql).
docker_process_sql --database=mysql <<SQL
CREATE DATABASE IF NOT EXISTS customer CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
GRANT ALL PRIVILEGES ON customer.* TO '$MARIADB_USER'@'%';
SQL
docker_process_sql --database=customer < /etc/dmh/customer-tables.sql
