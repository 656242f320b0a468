import ArgumentParser
import Foundation
import TetherServer

/// `tether label user add NAME --role admin|annotator`: create an account (the first admin comes from here).
struct LabelUserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage accounts.", subcommands: [Add.self, List.self])

    /// `tether label user add`.
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an account. The password is read from standard input (first line), or asked for on a terminal.")

        @OptionGroup var database: LabelDatabaseOption

        @Argument(help: "The login name.")
        var name: String

        @Option(help: "admin (create projects, invite, export) or annotator (label their own queue).")
        var role: Role = .annotator

        func run() throws {
            let password = try readPassword()
            let store = try LabelStore(path: database.db)
            let user = try store.addUser(name, role: role, password: password)
            print("added \(user.role.rawValue) \(user.name)")
        }

        func readPassword() throws -> String {
            if isatty(STDIN_FILENO) != 0 {
                guard let p = getpass("Password for \(name): ") else { throw ValidationError("no password given") }
                return String(cString: p)
            }
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("expected the password on the first line of standard input")
            }
            return line
        }
    }

    /// `tether label user list`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts and their roles.")

        @OptionGroup var database: LabelDatabaseOption

        func run() throws {
            for u in try LabelStore(path: database.db).users() { print("\(u.name)\t\(u.role.rawValue)") }
        }
    }
}

extension Role: ExpressibleByArgument {}
