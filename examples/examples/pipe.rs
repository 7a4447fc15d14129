//! A parent and a child process exchange messages over a duplex `Pipe`.
use multiproc::Process;
use multiproc::channel::{Connection, Pipe};

fn child(conn: Connection<String>) {
    conn.send("hello from the child".to_owned()).unwrap();
    // An empty message says goodbye (under the fork start method the child also holds a
    // copy of the parent's end, so it could not rely on end-of-file).
    while let Ok(message) = conn.recv() {
        if message.is_empty() {
            break;
        }
        conn.send(format!("child got {message:?}")).unwrap();
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (parent_conn, child_conn) = Pipe::<String>::duplex()?;
    let mut p = Process::new(child, (child_conn,));
    p.start()?;
    println!("{}", parent_conn.recv()?);
    for message in ["one", "two", "three"] {
        parent_conn.send(message.to_owned())?;
        println!("{}", parent_conn.recv()?);
    }
    parent_conn.send(String::new())?;
    p.join()?;
    Ok(())
}
