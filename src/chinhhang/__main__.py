from chinhhang.cli import main

if __name__ == "__main__":  # export workers import this module again; they must not run it
    main()
