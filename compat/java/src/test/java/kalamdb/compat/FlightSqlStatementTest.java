package kalamdb.compat;

import static org.junit.jupiter.api.Assertions.*;

import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.flight.FlightStream;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.driver.jdbc.shaded.org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;

/**
 * Baseline below JDBC: the Flight SQL client that ships inside the driver jar,
 * on the plain statement path (CommandStatementQuery / CommandStatementUpdate).
 * The JDBC driver itself never uses this path: it prepares every statement.
 */
class FlightSqlStatementTest {

  @Test
  void statementUpdateCountsAndQuery() throws Exception {
    String ns = Kalam.uniqueName("fsql");
    Kalam.withFlightSql((client, auth) -> {
      client.executeUpdate("CREATE NAMESPACE " + ns, auth);
      client.executeUpdate("CREATE SHARED TABLE " + ns + ".t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)", auth);
      assertEquals(3, client.executeUpdate(
          "INSERT INTO " + ns + ".t VALUES (1,'a',1.5), (2,'b',2.5), (3,'c',3.5)", auth));
      assertEquals(1, client.executeUpdate("UPDATE " + ns + ".t SET name = 'z' WHERE id = 1", auth));
      assertEquals(1, client.executeUpdate("DELETE FROM " + ns + ".t WHERE id = 3", auth));

      FlightInfo info = client.execute("SELECT id FROM " + ns + ".t ORDER BY id", auth);
      long rows = 0, sum = 0;
      for (FlightEndpoint ep : info.getEndpoints()) {
        try (FlightStream stream = client.getStream(ep.getTicket(), auth)) {
          while (stream.next()) {
            VectorSchemaRoot root = stream.getRoot();
            BigIntVector id = (BigIntVector) root.getVector("id");
            for (int i = 0; i < root.getRowCount(); i++) {
              rows++;
              sum += id.get(i);
            }
          }
        }
      }
      assertEquals(2, rows);
      assertEquals(3, sum);

      // SELECT * shows the declared columns; the _seq system column only when named
      // (README: "System columns").
      FlightInfo star = client.execute("SELECT * FROM " + ns + ".t", auth);
      java.util.List<String> cols = new java.util.ArrayList<>();
      for (FlightEndpoint ep : star.getEndpoints()) {
        try (FlightStream stream = client.getStream(ep.getTicket(), auth)) {
          stream.getRoot().getSchema().getFields().forEach(f -> cols.add(f.getName()));
          while (stream.next()) { /* drain */ }
        }
      }
      assertEquals(java.util.List.of("id", "name", "x"), cols);
      return null;
    });
  }
}
