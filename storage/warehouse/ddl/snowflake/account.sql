-- Account objects for lambda-candles, run once by an administrator:
--   candles warehouse init --account-objects    (or: candles warehouse ddl --account-objects)
-- The connecting user needs the SECURITYADMIN and SYSADMIN roles (an ACCOUNTADMIN has both).
-- ${ROLE}, ${WAREHOUSE}, ${DATABASE} and ${USER} come from CANDLES_SNOWFLAKE_*.

USE ROLE SECURITYADMIN;
CREATE ROLE IF NOT EXISTS ${ROLE} COMMENT = 'lambda-candles loader: owns RAW, CORE and MART';
GRANT ROLE ${ROLE} TO ROLE SYSADMIN;
GRANT ROLE ${ROLE} TO USER ${USER};

USE ROLE SYSADMIN;
-- XS and suspended after 60 s idle: a nightly load of one date needs seconds of compute.
CREATE WAREHOUSE IF NOT EXISTS ${WAREHOUSE}
    WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE
    COMMENT = 'lambda-candles loads';
CREATE DATABASE IF NOT EXISTS ${DATABASE} COMMENT = 'lambda-candles: verified OHLCV bars';
GRANT USAGE, OPERATE ON WAREHOUSE ${WAREHOUSE} TO ROLE ${ROLE};
GRANT USAGE, CREATE SCHEMA ON DATABASE ${DATABASE} TO ROLE ${ROLE};
