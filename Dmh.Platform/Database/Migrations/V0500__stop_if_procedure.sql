-- dmh_stop_if(failed, message): raises SQLSTATE 45000 with the message when failed is true. Settlement
-- sends it between the balance update and the COMMIT of one round trip, so that a balance version
-- changed by another transaction stops the round trip before it commits. A procedure because SIGNAL
-- needs a stored program on MySQL (MariaDB would also take an anonymous BEGIN NOT ATOMIC block).
-- One line: the migrator splits statements on semicolons that end a line. Dropped first so that a
-- database whose tables were dropped by hand (the procedure left behind) migrates again.
DROP PROCEDURE IF EXISTS dmh_stop_if;
CREATE PROCEDURE dmh_stop_if(IN failed BOOLEAN, IN message VARCHAR(128)) BEGIN IF failed THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = message; END IF; END;
